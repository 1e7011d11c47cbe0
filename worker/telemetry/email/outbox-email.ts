/**
 * A budget alert email in the metrics shard's outbox (metrics/shard-alerts.ts): the rendered email and the
 * idempotency key its every attempt carries (so a retry of a send Resend did accept sends no second email). The
 * row holds no API key: the provider's key joins the request only at send, from the env, as PagerDuty's routing
 * key does.
 */
import { MAX_RETRY_AFTER_MS, type PostResult } from '../alerts/slack.ts';
import { sendEmailOnce } from './providers.ts';
import type { EmailSettings } from './settings.ts';
import type { RenderedEmail } from './templates.ts';

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
 * Sends the row's email once and says whether to try again (providers.ts' sendEmailOnce), a `retry-after` honoured
 * up to MAX_RETRY_AFTER_MS. `send` is the fetch it goes through (a test's stub).
 */
export async function sendOutboxEmail(settings: EmailSettings, text: string, send: typeof fetch = fetch): Promise<PostResult> {
  const email = parse(text);
  if (!email) return { ok: false, permanent: true, detail: 'unreadable outbox row' };
  return sendEmailOnce(settings, email, email.idempotencyKey, { fetch: send, maxRetryAfterMs: MAX_RETRY_AFTER_MS });
}
