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
import { providerError, providerRequest, recipientsOf } from '../../worker/telemetry/email/providers.ts';
import type { EmailSettings } from '../../worker/telemetry/email/settings.ts';
import type { RenderedEmail } from '../../worker/telemetry/email/templates.ts';

export const MAX_ATTEMPTS = 4;
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Everything (attempts and waits) within this of the start, inside waitUntil's 30 s. */
const TOTAL_MS = 25_000;

export interface DeliveryDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait a 429 or 503 asks for (`retry-after` in seconds, or an HTTP date), when it gives one. */
function retryAfterMs(res: Response, now: number): number | undefined {
  const header = res.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Sends `email`; true once the provider accepted it. Never throws. `secrets`, the API key and the recipient (a
 * provider's reason may quote the address) are kept out of the failure's log line.
 */
export async function deliverEmail(settings: EmailSettings, email: RenderedEmail, secrets: readonly string[], deps: DeliveryDeps = {}): Promise<boolean> {
  const { fetch: send = fetch, sleep = realSleep, now = Date.now } = deps;
  const { url, init } = providerRequest(settings, email, crypto.randomUUID());
  const redact = (text: string) => [settings.apiKey, ...recipientsOf(email), ...secrets].reduce((out, secret) => (secret ? out.replaceAll(secret, '[redacted]') : out), text);
  const deadline = now() + TOTAL_MS;
  let failure = '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let wait: number | undefined;
    try {
      const res = await send(url, { ...init, signal: AbortSignal.timeout(Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - now()))) });
      if (res.ok) {
        await res.body?.cancel();
        return true;
      }
      // Redacted before providerError shortens it, so no cut-off piece of a secret is left to slip through.
      failure = `${res.status} ${providerError(redact(await res.text().catch(() => '')))}`.trim();
      if (res.status !== 429 && res.status < 500) break;
      wait = retryAfterMs(res, now());
    } catch (err) {
      failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    // Without a `retry-after`: 1 s, 2 s, 4 s, as Slack alerts back off.
    const delay = wait ?? backoffMs(attempt);
    if (attempt === MAX_ATTEMPTS) break;
    if (now() + delay >= deadline) {
      if (wait !== undefined) failure += ` (retry-after ${Math.ceil(wait / 1000)} s is past the ${TOTAL_MS / 1000} s the send may take)`;
      break;
    }
    await sleep(delay);
  }
  log.error(`email "${email.subject}" via ${settings.provider} was not sent: ${redact(failure)}`);
  return false;
}
