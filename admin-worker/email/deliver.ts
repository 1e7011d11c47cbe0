/**
 * Sends one rendered email through its provider, retrying what the provider says is passing: a 429 (after its
 * `retry-after`), a 5xx, a network error or timeout. Bounded so it ends inside `waitUntil`'s 30 s after the
 * admin answer: a `retry-after` past that is given up at once. Every attempt carries the same idempotency key
 * (providers.ts), so a retry of an attempt the provider did accept sends no second email where the provider honours it.
 * A failure is logged with the provider's status and reason only: never the API key, the body (a new key's value
 * is in it) or the recipient.
 */
import { backoffMs } from '../../worker/telemetry/alerts/slack.ts';
import { log } from '../../worker/telemetry/log.ts';
import { ATTEMPT_TIMEOUT_MS, sendEmailOnce } from '../../worker/telemetry/email/providers.ts';
import type { EmailSettings } from '../../worker/telemetry/email/settings.ts';
import type { RenderedEmail } from '../../worker/telemetry/email/templates.ts';

export const MAX_ATTEMPTS = 4;
/** Everything (attempts and waits) within this of the start, inside waitUntil's 30 s. */
const TOTAL_MS = 25_000;

export interface DeliveryDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends `email`; true once the provider accepted it. Never throws. `secrets`, the API key and the recipient (a
 * provider's reason may quote the address) are kept out of the failure's log line.
 */
export async function deliverEmail(settings: EmailSettings, email: RenderedEmail, secrets: readonly string[], deps: DeliveryDeps = {}): Promise<boolean> {
  const { fetch, sleep = realSleep, now = Date.now } = deps;
  const idempotencyKey = crypto.randomUUID();
  const deadline = now() + TOTAL_MS;
  let failure = '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const timeoutMs = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - now()));
    const result = await sendEmailOnce(settings, email, idempotencyKey, { fetch, now, timeoutMs, secrets });
    if (result.ok) return true;
    failure = result.detail;
    if (result.permanent || attempt === MAX_ATTEMPTS) break;
    // Without a `retry-after`: 1 s, 2 s, 4 s, as Slack alerts back off.
    const delay = result.retryAfterMs ?? backoffMs(attempt);
    if (now() + delay >= deadline) {
      if (result.retryAfterMs !== undefined) failure += ` (retry-after ${Math.ceil(result.retryAfterMs / 1000)} s is past the ${TOTAL_MS / 1000} s the send may take)`;
      break;
    }
    await sleep(delay);
  }
  log.error(`email "${email.subject}" via ${settings.provider} was not sent: ${failure}`);
  return false;
}
