/**
 * The admin writes that email a user, once committed: a key created with `send_invite_email` (/key/generate,
 * /key/service-account/generate), a key rotated (/key/regenerate, always, as LiteLLM does), and a user created
 * with `send_invite_email` (/user/new). Everything after the config check runs in `waitUntil`, the key's
 * recipient lookup included (on its own connection: the request's closes with the answer), so the email path
 * never holds up, fails or changes the admin answer.
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
import { type EmailEventKind, emailSetup, type EmailSettings } from './settings.ts';
import { emailSubject, invitationEmail, invitationLink } from './templates.ts';

/**
 * The email callback's settings, or undefined: config.yaml names none, or none has its API key. A missing key, or
 * no callback when the request asked (`requested`: its `send_invite_email`), is warned about.
 */
export function configuredEmail(c: AdminContext, kind: EmailEventKind, requested: boolean): EmailSettings | undefined {
  const l = runtimeConfig(c.env).config.litellm_settings;
  const { settings, warning } = emailSetup([l.callbacks, l.success_callback, l.failure_callback], c.env, requested);
  if (warning) log.warn(`email "${emailSubject(kind, { subjects: {} })}" not sent: ${warning}`);
  return settings;
}

/** Emails the key's user its new (or rotated) key, after the answer, when an email callback is on. */
export function emailKey(c: AdminContext, kind: KeyEmailKind, key: AnsweredKey, plain: string, requested: boolean): void {
  const settings = configuredEmail(c, kind, requested);
  if (settings) c.executionCtx.waitUntil(sendKeyEmail(settings, kind, key, plain, (userId) => userEmail(c.env, userId)));
}

/** The settings to email a new user its invitation with (/user/new with `send_invite_email`), or undefined and a warning. */
export function invitationSettings(c: AdminContext, recipient: string | null | undefined): EmailSettings | undefined {
  const settings = configuredEmail(c, 'new_user_invitation', true);
  if (settings && !recipient) log.warn(`email "${emailSubject('new_user_invitation', settings)}" not sent: /user/new has no user_email`);
  return recipient ? settings : undefined;
}

/** Emails a new user its invitation link (templates.ts's invitationLink). */
export function emailInvitation(c: AdminContext, settings: EmailSettings, recipient: string, invitationId: string): void {
  const email = invitationEmail({ recipient, link: invitationLink(settings, invitationId) }, settings);
  c.executionCtx.waitUntil(deliverEmail(settings, email, [invitationId]));
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
