/**
 * The admin writes that email a user, once committed: a key created with `send_invite_email` (/key/generate,
 * /key/service-account/generate), a key rotated (/key/regenerate, always, as LiteLLM does), and a user created
 * with `send_invite_email` (/user/new). A key's email runs in `waitUntil` after the config check, its recipient
 * lookup included (on its own connection: the request's closes with the answer), so it never holds up, fails or
 * changes the admin answer. An invitation's link is a LiteLLM_InvitationLink row written in the user's own
 * transaction (as LiteLLM creates it with the user) when an email callback can send it; the email goes in
 * `waitUntil` after the commit, and the warnings of one that cannot go are logged then too.
 */
import { eq } from 'drizzle-orm';
import { users } from '../../drizzle/schema/principals.ts';
import { runtimeConfig } from '../../worker/config/runtime.ts';
import { openDatabase } from '../../worker/db/client.ts';
import { log } from '../../worker/telemetry/log.ts';
import type { AdminEnv } from '../env.ts';
import type { AdminContext } from '../lib/context.ts';
import { deliverEmail } from './deliver.ts';
import { type AnsweredKey, type KeyEmailKind, sendKeyEmail } from './key-email.ts';
import { type EmailEventKind, emailSetup, type EmailSettings, notSent } from '../../worker/telemetry/email/settings.ts';
import { invitationEmail, invitationLink } from '../../worker/telemetry/email/templates.ts';

/** The settings an email goes with, or why it does not (a warning to log). */
interface EmailSetup {
  settings?: EmailSettings;
  warning?: string;
}

/** The email settings for `kind`, or the warning why none goes (settings.ts's emailSetup), from config.yaml's callbacks. */
function setupFor(c: AdminContext, kind: EmailEventKind, requested: boolean): EmailSetup {
  const l = runtimeConfig(c.env).config.litellm_settings;
  return emailSetup([l.callbacks, l.success_callback, l.failure_callback], c.env, kind, requested);
}

/**
 * Emails the key's user its new (or rotated) key, after the answer, when an email callback is on. A missing API
 * key, or no callback when the request asked (`requested`: its `send_invite_email`), is warned about.
 */
export function emailKey(c: AdminContext, kind: KeyEmailKind, key: AnsweredKey, plain: string, requested: boolean): void {
  const { settings, warning } = setupFor(c, kind, requested);
  if (warning) log.warn(warning);
  if (settings) c.executionCtx.waitUntil(sendKeyEmail(settings, kind, key, plain, (userId) => userEmail(c.env, userId)));
}

/**
 * How /user/new's invitation goes (`send_invite_email`), read before its transaction: with settings, its link row
 * is written with the user. Nothing is logged until emailInvitation.
 */
export function invitationSetup(c: AdminContext, recipient: string | null | undefined): EmailSetup {
  const setup = setupFor(c, 'new_user_invitation', true);
  if (setup.settings && !recipient) return { warning: notSent('new_user_invitation', setup.settings, '/user/new has no user_email') };
  return setup;
}

/** After /user/new commits: emails the new user its invitation link (templates.ts's invitationLink), or logs why none goes. */
export function emailInvitation(c: AdminContext, setup: EmailSetup, recipient: string | null | undefined, invitationId: string | undefined): void {
  if (setup.warning) log.warn(setup.warning);
  if (!setup.settings || !recipient || !invitationId) return;
  const email = invitationEmail({ recipient, link: invitationLink(setup.settings, invitationId) }, setup.settings);
  c.executionCtx.waitUntil(deliverEmail(setup.settings, email, [invitationId]));
}

async function userEmail(env: AdminEnv, userId: string): Promise<string | undefined> {
  const database = openDatabase(env);
  try {
    const [row] = await database.db.select({ email: users.user_email }).from(users).where(eq(users.user_id, userId)).limit(1);
    return row?.email?.trim() || undefined;
  } finally {
    await database.close();
  }
}
