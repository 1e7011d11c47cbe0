/**
 * A budget alert email in the metrics shard's outbox (metrics/shard-alerts.ts): the rendered email and the
 * idempotency key its every attempt carries (so a retry of a send Resend did accept sends no second email). The
 * row holds no API key: the provider's key joins the request only at send, from the env, as PagerDuty's routing
 * key does.
 */
import type { PostResult } from '../alerts/slack.ts';
import { providerError, providerRequest, recipientsOf } from './providers.ts';
import type { EmailSettings } from './settings.ts';
import type { RenderedEmail } from './templates.ts';

const ATTEMPT_TIMEOUT_MS = 10_000;
/** A provider's `retry-after` is honoured up to this; the outbox's attempts are bounded anyway. */
const MAX_RETRY_AFTER_MS = 300_000;

interface OutboxEmail extends RenderedEmail {
  idempotencyKey: string;
}

/** The outbox row's text for `email`, with a new idempotency key. */
export function outboxEmail(email: RenderedEmail): string {
  return JSON.stringify({ ...email, idempotencyKey: crypto.randomUUID() } satisfies OutboxEmail);
}

function parse(text: string): OutboxEmail | undefined {
  try {
    const e = JSON.parse(text) as Partial<OutboxEmail>;
    const to = Array.isArray(e.to) ? e.to.every((a) => typeof a === 'string') : typeof e.to === 'string';
    return to && typeof e.subject === 'string' && typeof e.html === 'string' && typeof e.idempotencyKey === 'string' ? e as OutboxEmail : undefined;
  } catch {
    return undefined;
  }
}

/** How a row is named in a log line: its subject only (never the recipient or the body). */
export function outboxEmailSubject(text: string): string {
  return parse(text)?.subject ?? 'an unreadable email';
}

/**
 * Sends the row's email once and says whether to try again: a 429 (after its `retry-after`), a 5xx, a network
 * error or timeout are passing; any other refusal is not. The failure's detail is the provider's reason, with the
 * API key and the recipients taken out. `send` is the fetch it goes through (a test's stub).
 */
export async function sendOutboxEmail(settings: EmailSettings, text: string, send: typeof fetch = fetch): Promise<PostResult> {
  const email = parse(text);
  if (!email) return { ok: false, permanent: true, detail: 'unreadable outbox row' };
  const { url, init } = providerRequest(settings, email, email.idempotencyKey);
  const redact = (s: string) => [settings.apiKey, ...recipientsOf(email)].reduce((out, secret) => (secret ? out.replaceAll(secret, '[redacted]') : out), s);
  try {
    const res = await send(url, { ...init, signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
    if (res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: true };
    }
    const detail = `HTTP ${res.status} ${providerError(redact(await res.text().catch(() => '')))}`.trim();
    const retryAfter = retryAfterMs(res.headers.get('retry-after'));
    return { ok: false, permanent: res.status !== 429 && res.status < 500, detail, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  } catch (err) {
    return { ok: false, permanent: false, detail: redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err)) };
  }
}

/** `retry-after` in seconds or as an HTTP date, capped. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}
