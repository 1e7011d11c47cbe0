import { runtimeConfig } from '../../../../worker/config/runtime.ts';
import type { TollgateConfig } from '../../../../worker/config/schema.ts';
import type { EventSegment } from '../segment.ts';
import { unreadable } from './payloads.ts';

/**
 * The admin Worker's environment as the loggers read it: variables by name. Structural on purpose, so the
 * posters (and their tests under node) need none of the Workers binding types.
 */
export type LoggerEnv = Readonly<Record<string, unknown>>;

/** What became of one request to a logger's destination. */
export type PostResult =
  /**
   * Taken; `dropped` says why the destination refused some payloads as such while taking the rest (the poster
   * has logged each): the dispatcher counts it as the callback's failure, as it does a refused request.
   */
  | { ok: true; dropped?: string }
  /**
   * Not taken: `retry` when the destination may take it later (unreachable, slow, a redirect, 401/403/404/407,
   * 408, 429, 5xx: the destination or its settings are at fault, not the payloads); otherwise (400, 413, 422) it
   * refuses these payloads, and the dispatcher splits the request down to the one it will not take. `cut` when
   * the reason ends in a destination's answer cut at ANSWER_CAP (it may end in part of a secret: secrets.ts).
   * `unanswered` when no answer came at all (timed out or unreachable: networkFailure).
   */
  | { ok: false; retry: boolean; reason: string; cut?: boolean; unanswered?: boolean };

/** How much of a destination's answer a reason keeps: whole enough to be scrubbed (secrets.ts) before any cut. */
export const ANSWER_CAP = 8 * 1024;

/** How a target is made: the /health/services test payload is sent whatever a sampling rate would keep. */
export interface TargetOptions {
  /** Send every payload: no sampling (LANGSMITH_SAMPLING_RATE) may leave a test payload out and call it sent. */
  unsampled?: boolean;
}

/** A destination read from the admin Worker's environment, ready to post batches of payloads to. */
export interface LoggerTarget {
  /** Where the payloads go, for log lines: an origin, never a credential. */
  where: string;
  /** One request of these segments' payloads (each segment: StandardLoggingPayload JSON texts, comma-separated). */
  post(segments: readonly EventSegment[]): Promise<PostResult>;
}

/**
 * A standard logger's admin side: how its destination is read from the environment (credentials too, read
 * here at post time and never carried on the Queue) and how a batch of payloads becomes its request. The
 * dispatcher (../loggers.ts) does the rest: grouping, request size limits, retries and acks.
 */
export interface LoggerPoster {
  /** Payloads per request at most. */
  maxPayloads: number;
  /** Bytes of payload JSON per request at most (a larger single message goes alone). */
  maxBytes: number;
  /**
   * Bytes one segment adds to a request as the destination counts them (`maxBytes` is measured in these), when
   * that is more than its payloads' JSON (Datadog escapes each payload again inside a log's `message`).
   */
  requestBytes?(segment: EventSegment): number;
  /**
   * The destination, or why the settings make none: `retry` when the payloads should wait for the settings'
   * mending (kept on the Queue, the dead-letter queue at worst) rather than be dropped.
   */
  target(env: LoggerEnv, options?: TargetOptions): LoggerTarget | { error: string; retry?: boolean };
}

/**
 * The target of a poster configured in config.yaml (S3's and SQS's params): the config loaded, the poster's params
 * picked from it and its target built from them; a config that does not load makes no destination, said so.
 */
export function configuredTarget<P>(
  env: LoggerEnv, pick: (config: TollgateConfig) => P, build: (params: P) => ReturnType<LoggerPoster['target']>,
): ReturnType<LoggerPoster['target']> {
  let params: P;
  try {
    params = pick(runtimeConfig(env).config);
  } catch {
    return { error: 'the config does not load in the admin Worker' };
  }
  return build(params);
}

/** How long a destination gets to answer one request. */
export const POST_TIMEOUT_MS = 10_000;

/** Statuses that say the payloads themselves are refused (malformed, too large, invalid): only these split a request. */
const PAYLOAD_REFUSED = new Set([400, 413, 422]);

/**
 * A status the destination may take later, as against payloads it never will. Only 400/413/422 blame the
 * payloads; anything else (a redirect, which is not followed, 401/403/404/407 for wrong settings, 408, 429,
 * 5xx) blames the destination, so the request is retried whole and reaches the dead-letter queue at worst.
 */
export const retryableStatus = (status: number): boolean => !PAYLOAD_REFUSED.has(status);

/** A destination's answer to one request: its status and its text ('' when the body cannot be read). */
export interface PostAnswer { status: number; answer: string }

/**
 * Posts a body as every poster does (no redirect followed, POST_TIMEOUT_MS to answer) and returns the answer with
 * its headers, or, when none came, the failure to retry (networkFailure): for a poster that reads the answer itself
 * (Lago's 422, ClickHouse's X-ClickHouse-Exception-Code).
 */
export async function postForAnswer(url: string, init: { headers: Record<string, string>; body: Uint8Array }): Promise<(PostAnswer & { headers: Headers }) | PostResult> {
  try {
    const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body as Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual' });
    return { status: res.status, answer: await res.text().catch(() => ''), headers: res.headers };
  } catch (err) {
    return networkFailure(err);
  }
}

/** An answer that is not a success as a failure: retried by retryableStatus, its text kept to ANSWER_CAP (`cut` past it). */
export function refusedAnswer({ status, answer }: PostAnswer): PostResult {
  // Kept (to a cap) rather than cut short: a secret the answer echoes is scrubbed whole before the reason is cut.
  const reason = `HTTP ${status}${answer ? `: ${answer.slice(0, ANSWER_CAP)}` : ''}`;
  return answer.length > ANSWER_CAP ? { ok: false, retry: retryableStatus(status), reason, cut: true } : { ok: false, retry: retryableStatus(status), reason };
}

/**
 * Posts a body and classifies the answer: `accepted` statuses are success; network errors, timeouts and every
 * status but 400/413/422 are retried (retryableStatus); 400/413/422 are the payloads' fault (split, then dropped).
 */
export async function postClassified(url: string, init: { headers: Record<string, string>; body: Uint8Array }, accepted: (status: number) => boolean): Promise<PostResult> {
  const answered = await postForAnswer(url, init);
  if ('ok' in answered) return answered;
  return accepted(answered.status) ? { ok: true } : refusedAnswer(answered);
}

/** A request that got no answer (timed out after POST_TIMEOUT_MS, or unreachable): always retried. */
export function networkFailure(err: unknown): PostResult {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  return { ok: false, retry: true, unanswered: true, reason: timedOut ? `no answer within ${POST_TIMEOUT_MS} ms` : `unreachable (${err instanceof Error ? err.message : String(err)})` };
}

const utf8 = new TextDecoder();

/**
 * The posting loop of a destination with no batch write (S3, GCS: one object a payload): each segment's payloads
 * put one by one, stopping at the first that is not taken, so a retry rewrites the same objects and no more.
 */
export async function putEach(segments: readonly EventSegment[], put: (payload: unknown) => Promise<PostResult>): Promise<PostResult> {
  for (const segment of segments) {
    let payloads: unknown[];
    try {
      payloads = JSON.parse(`[${utf8.decode(segment.bytes)}]`) as unknown[];
    } catch (err) {
      return unreadable(err);
    }
    for (const payload of payloads) {
      const result = await put(payload);
      if (!result.ok) return result;
    }
  }
  return { ok: true };
}

/** A configured URL, checked: http(s), no user info (credentials go in headers). */
export function httpUrl(value: string, what: string): URL | { error: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { error: `${what} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `${what} is not an http(s) URL` };
  if (url.username || url.password) return { error: `${what} must not carry credentials in the URL` };
  return url;
}

export const envText = (env: LoggerEnv, name: string): string | undefined => {
  const v = env[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};
