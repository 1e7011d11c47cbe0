/**
 * The admin writes that email a user, once committed: a key created with `send_invite_email` (/key/generate,
 * /key/service-account/generate), a key rotated (/key/regenerate, always, as LiteLLM does), and a user created
 * with `send_invite_email` (/user/new). A key's email runs in `waitUntil` after the config check, its recipient
 * lookup included (on its own connection, given up after 5 s: the request's closes with the answer), so it never holds up, fails or
 * changes the admin answer. An invitation's link is a LiteLLM_InvitationLink row written in the user's own
 * transaction (as LiteLLM creates it with the user) when an email callback can send it; the email goes in
 * `waitUntil` after the commit, and the warnings of one that cannot go are logged then too. Each goes only while
 * `/email/event_settings` has its event on (routes/email-settings.ts): read as it is sent (a key's in `waitUntil`,
 * an invitation's before the user's transaction, so a switched-off one writes no link); a failed read is logged and
 * the email goes, as LiteLLM's defaults (every event on) would have it.
 */
import { runtimeConfig } from '../../worker/config/runtime.ts';
import { userEmail } from '../../worker/telemetry/email/user-email.ts';
import { log } from '../../worker/telemetry/log.ts';
import type { AdminEnv } from '../env.ts';
import type { AdminContext } from '../lib/context.ts';
import { deliverEmail } from './deliver.ts';
import { type AnsweredKey, type KeyEmailKind, sendKeyEmail } from './key-email.ts';
import { type EmailEventSettings, EVENT_OF, readEmailEvents } from '../../worker/telemetry/email/event-settings.ts';
import { type EmailEventKind, emailSetup, type EmailSettings, notSent } from '../../worker/telemetry/email/settings.ts';
import { storedEmailEvents } from '../../worker/telemetry/email/stored-events.ts';
import { emailSubject, invitationEmail, invitationLink } from '../../worker/telemetry/email/templates.ts';

/** The settings an email goes with, or why it does not (a warning to log, or a notice: its event is switched off). */
interface EmailSetup {
  settings?: EmailSettings;
  warning?: string;
  notice?: string;
}

/**
 * Why `kind`'s email does not go though it can: its event switched off in `/email/event_settings`. Undefined when it
 * is on, or when the switches cannot be read (logged: the email goes, as by LiteLLM's defaults).
 */
async function switchedOff(read: () => Promise<EmailEventSettings>, kind: EmailEventKind, settings: EmailSettings): Promise<string | undefined> {
  const event = EVENT_OF[kind];
  try {
    if ((await read())[event]) return undefined;
  } catch (err) {
    log.error(`email "${emailSubject(kind, settings)}": reading general_settings.email_settings failed, sending it as by default:`, err instanceof Error ? err.message : String(err));
    return undefined;
  }
  return `email "${emailSubject(kind, settings)}" not sent: "${event}" is switched off in /email/event_settings`;
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
  if (settings) c.executionCtx.waitUntil(emailKeyIfOn(c.env, settings, kind, key, plain));
}

async function emailKeyIfOn(env: AdminEnv, settings: EmailSettings, kind: KeyEmailKind, key: AnsweredKey, plain: string): Promise<void> {
  const off = await switchedOff(() => storedEmailEvents(env), kind, settings);
  if (off) log.info(off);
  else await sendKeyEmail(settings, kind, key, plain, (userId) => userEmail(env, userId));
}

/**
 * How /user/new's invitation goes (`send_invite_email`), read before its transaction: with settings, its link row
 * is written with the user. Nothing is logged until emailInvitation (but a failed read of the event switches).
 */
export async function invitationSetup(c: AdminContext, recipient: string | null | undefined): Promise<EmailSetup> {
  const setup = setupFor(c, 'new_user_invitation', true);
  if (!setup.settings) return setup;
  if (!recipient) return { warning: notSent('new_user_invitation', setup.settings, '/user/new has no user_email') };
  const notice = await switchedOff(() => readEmailEvents(c.get('db')().pool), 'new_user_invitation', setup.settings);
  return notice ? { notice } : setup;
}

/** After /user/new commits: emails the new user its invitation link (templates.ts's invitationLink), or logs why none goes. */
export function emailInvitation(c: AdminContext, setup: EmailSetup, recipient: string | null | undefined, invitationId: string | undefined): void {
  if (setup.warning) log.warn(setup.warning);
  if (setup.notice) log.info(setup.notice);
  if (!setup.settings || !recipient || !invitationId) return;
  const email = invitationEmail({ recipient, link: invitationLink(setup.settings, invitationId) }, setup.settings);
  c.executionCtx.waitUntil(deliverEmail(setup.settings, email, [invitationId]));
}
