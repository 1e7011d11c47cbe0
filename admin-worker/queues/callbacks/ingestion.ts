import pkg from '../../../package.json';
import type { LangfuseCredentials } from './credentials.ts';
import { type EventSegment, joinedBody } from './segment.ts';

export { type EventSegment, joinedBody };

/**
 * Bytes of events per ingestion request: Langfuse takes 3.5 MB a request.
 * Segments are gathered up to this; one message's segment, never taken
 * apart, is at most 3 MB (CALLBACK_MESSAGE_CHARS) and goes alone.
 */
export const MAX_POST_BYTES = 3 * 1024 * 1024;

export type IngestionResult =
  /** Langfuse took the request: `retry` holds the events it failed with a retryable status (5xx, 429) in its 207. */
  | { ok: true; retry: Set<string>; rejected: { id: string; status: number; message: string }[] }
  /** The request as a whole failed (network, timeout, non-2xx): every event in it is retried. */
  | { ok: false; reason: string };

const encoder = new TextEncoder();

function basicAuth(publicKey: string, secretKey: string): string {
  let binary = '';
  for (const byte of encoder.encode(`${publicKey}:${secretKey}`)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Segments → ingestion requests of at most MAX_POST_BYTES of events each (a larger segment alone), in order. */
export function chunkSegments<S extends EventSegment>(segments: readonly S[]): S[][] {
  const chunks: S[][] = [];
  let current: S[] = [];
  let bytes = 0;
  for (const segment of segments) {
    if (current.length && bytes + segment.bytes.byteLength + 1 > MAX_POST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(segment);
    bytes += segment.bytes.byteLength + 1;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** The request body `{batch, metadata}`, its batch the segments' bytes joined, unparsed. */
function ingestionBody(segments: readonly EventSegment[], publicKey: string): Uint8Array {
  const events = segments.reduce((n, s) => n + s.events, 0);
  return joinedBody('{"batch":[', segments, `],"metadata":${JSON.stringify({
    batch_size: events, sdk_integration: 'litellm', sdk_name: 'tollgate', sdk_version: pkg.version, public_key: publicKey,
  })}}`);
}

/**
 * One `POST {host}/api/public/ingestion` (HTTP basic auth public:secret), as
 * Langfuse's SDKs send it. Langfuse answers 207 with `successes` and
 * `errors` per event; a 4xx for one event (it will never be valid) is only
 * reported, a 5xx or 429 for one event marks it for another try.
 */
export async function postIngestion(credentials: LangfuseCredentials, segments: readonly EventSegment[], timeoutMs: number): Promise<IngestionResult> {
  let res: Response;
  try {
    res = await fetch(`${credentials.host}/api/public/ingestion`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(credentials.publicKey, credentials.secretKey),
        'content-type': 'application/json',
        'x-langfuse-sdk-name': 'tollgate',
        'x-langfuse-sdk-version': pkg.version,
        'x-langfuse-public-key': credentials.publicKey,
      },
      body: ingestionBody(segments, credentials.publicKey),
      signal: AbortSignal.timeout(timeoutMs),
      // A redirect is not followed: it would turn the POST into a GET to wherever it points.
      redirect: 'manual',
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { ok: false, reason: timedOut ? `no answer within ${timeoutMs} ms` : `unreachable (${err instanceof Error ? err.message : String(err)})` };
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: false, reason: `HTTP ${res.status} (a redirect, not followed)` };
  }
  const text = await res.text().catch(() => '');
  if (res.status !== 207 && (res.status < 200 || res.status > 299)) {
    return { ok: false, reason: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  }
  const retry = new Set<string>();
  const rejected: { id: string; status: number; message: string }[] = [];
  let answer: { errors?: unknown } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // A 2xx without a JSON body: everything was taken.
  }
  for (const error of Array.isArray(answer.errors) ? answer.errors : []) {
    const e = error as { id?: unknown; status?: unknown; message?: unknown; error?: unknown };
    if (typeof e.id !== 'string') continue;
    const status = typeof e.status === 'number' ? e.status : 500;
    if (status >= 500 || status === 429) retry.add(e.id);
    else rejected.push({ id: e.id, status, message: describe(e.message ?? e.error) });
  }
  return { ok: true, retry, rejected };
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return text.slice(0, 300);
}
