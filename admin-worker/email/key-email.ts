/**
 * The email of a new or rotated key, sent after the admin answer: the recipient's lookup and the send both run in
 * `waitUntil` (events.ts), so neither a failing lookup nor a failing provider can change or delay the answer, which
 * carries the only other copy of the key (on /key/regenerate without a grace period the old key is already revoked).
 */
import { log } from '../../worker/telemetry/log.ts';
import { deliverEmail, type DeliveryDeps } from './deliver.ts';
import type { EmailSettings } from '../../worker/telemetry/email/settings.ts';
import { emailSubject, keyEmail } from '../../worker/telemetry/email/templates.ts';

/** The key as /key/generate and /key/regenerate answer it: the facts its email carries. */
export interface AnsweredKey {
  user_id?: unknown;
  key_alias?: unknown;
  key_name?: unknown;
  max_budget?: unknown;
  models?: unknown;
}

export type KeyEmailKind = 'virtual_key_created' | 'virtual_key_rotated';

/** Looks up the key's user's email (`findEmail`) and emails it the key. Never rejects; a failure is logged without the key. */
export async function sendKeyEmail(
  settings: EmailSettings, kind: KeyEmailKind, key: AnsweredKey, plain: string,
  findEmail: (userId: string) => Promise<string | undefined>, deps: DeliveryDeps = {},
): Promise<void> {
  const subject = emailSubject(kind, settings);
  let recipient: string | undefined;
  try {
    recipient = typeof key.user_id === 'string' ? await findEmail(key.user_id) : undefined;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log.error(`email "${subject}" via ${settings.provider} was not sent: the key's user could not be read: ${reason.replaceAll(plain, '[redacted]')}`);
    return;
  }
  if (!recipient) {
    // LiteLLM's "User email not found": the write stands, no email goes.
    log.warn(`email "${subject}" not sent: the key has no user with an email`);
    return;
  }
  const email = keyEmail(kind, {
    recipient,
    key: plain,
    keyName: typeof key.key_name === 'string' ? key.key_name : '',
    keyAlias: typeof key.key_alias === 'string' ? key.key_alias : null,
    maxBudget: typeof key.max_budget === 'number' ? key.max_budget : null,
    models: Array.isArray(key.models) ? key.models.filter((m): m is string => typeof m === 'string') : [],
  }, settings);
  await deliverEmail(settings, email, [plain], deps);
}
