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
    const retryAfter = Number(res.headers.get('retry-after'));
    // 429 and 5xx are Slack's (or the network's) to recover from; any other 4xx (a revoked webhook) will not improve.
    const transient = res.status === 429 || res.status >= 500;
    return {
      ok: false,
      permanent: !transient,
      detail: `HTTP ${res.status}`,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter, 300) * 1000 } : {}),
    };
  } catch (err) {
    return { ok: false, permanent: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** 1 s, 2 s, 4 s, ... between attempts. */
export function backoffMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
