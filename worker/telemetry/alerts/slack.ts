/**
 * Posting to a Slack incoming webhook: `{"text": "..."}`. Called only by the
 * aggregating objects' alarm (never on a request's path), which keeps
 * undelivered messages in its storage and retries them.
 */

/** Attempts per message before it is dropped (logged): about a minute of backoff in all. */
export const SLACK_MAX_ATTEMPTS = 6;
const POST_TIMEOUT_MS = 10_000;
/** Slack cuts messages far beyond this; an alert never needs more. */
const MAX_TEXT_CHARS = 3_000;
/** A `retry-after` is honoured up to this by the alarm-driven senders (Slack, the webhook, the email outbox), whose attempts are bounded anyway. */
export const MAX_RETRY_AFTER_MS = 300_000;

export type PostResult = { ok: true } | { ok: false; retryAfterMs?: number; permanent: boolean; detail: string };

export function postToSlack(webhookUrl: string, text: string): Promise<PostResult> {
  return postJson(webhookUrl, JSON.stringify({ text: text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}...` : text }));
}

/** POSTs a JSON body (a Slack message, or a webhook event as it is) and says whether to try again. */
export async function postJson(url: string, body: string): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return { ok: true };
    const retryAfter = retryAfterMs(res.headers.get('retry-after'), Date.now(), MAX_RETRY_AFTER_MS);
    return { ok: false, permanent: !retryable(res.status), detail: `HTTP ${res.status}`, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  } catch (err) {
    return { ok: false, permanent: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** 429 and 5xx are the receiver's (or the network's) to recover from; any other 4xx (a revoked webhook, a refused key) will not improve. */
export const retryable = (status: number): boolean => status === 429 || status >= 500;

/**
 * The wait a `retry-after` asks for, in seconds or as an HTTP date (RFC 9110 section 10.2.3), at most `capMs` when
 * given; undefined without one, or when it asks for none (the caller's own backoff then applies).
 */
export function retryAfterMs(header: string | null, now: number, capMs = Infinity): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, capMs) : undefined;
}

/** 1 s, 2 s, 4 s, ... between attempts. */
export function backoffMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
