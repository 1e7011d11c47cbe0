import type { IngestionEvent } from '../../../worker/telemetry/langfuse/types.ts';
import { utf8Bound } from '../../../worker/telemetry/queue-packing.ts';
import { inSlices } from '../../../worker/telemetry/yield.ts';
import pkg from '../../../package.json';
import type { LangfuseCredentials } from './credentials.ts';

/** Langfuse takes a few MB per ingestion request; 1 MB keeps every request well inside that. */
export const MAX_POST_BYTES = 1024 * 1024;
const MAX_POST_EVENTS = 500;
/** Events serialised between two turns of the event loop. */
const SERIALISE_SLICE = 200;

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

/** Events bound for one request, with each one's JSON (serialised once: the request body is made of it). */
export interface EventChunk {
  events: IngestionEvent[];
  jsons: string[];
}

/** Events → request bodies of at most MAX_POST_BYTES and MAX_POST_EVENTS each (serialised in slices, yielding to requests between them). */
export async function chunkEvents(events: IngestionEvent[]): Promise<EventChunk[]> {
  const chunks: EventChunk[] = [];
  let current: EventChunk = { events: [], jsons: [] };
  let bytes = 0;
  await inSlices(events, SERIALISE_SLICE, (event) => {
    const json = JSON.stringify(event);
    const size = utf8Bound(json);
    if (current.events.length && (bytes + size > MAX_POST_BYTES || current.events.length >= MAX_POST_EVENTS)) {
      chunks.push(current);
      current = { events: [], jsons: [] };
      bytes = 0;
    }
    current.events.push(event);
    current.jsons.push(json);
    bytes += size;
  });
  if (current.events.length) chunks.push(current);
  return chunks;
}

/**
 * One `POST {host}/api/public/ingestion` (HTTP basic auth public:secret), as
 * Langfuse's SDKs send it. Langfuse answers 207 with `successes` and
 * `errors` per event; a 4xx for one event (it will never be valid) is only
 * reported, a 5xx or 429 for one event marks it for another try.
 */
export async function postIngestion(credentials: LangfuseCredentials, chunk: EventChunk, timeoutMs: number): Promise<IngestionResult> {
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
      // `{batch, metadata}`, the batch from the events' own JSON.
      body: `{"batch":[${chunk.jsons.join(',')}],"metadata":${JSON.stringify({
        batch_size: chunk.events.length, sdk_integration: 'litellm', sdk_name: 'tollgate', sdk_version: pkg.version, public_key: credentials.publicKey,
      })}}`,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { ok: false, reason: timedOut ? `no answer within ${timeoutMs} ms` : `unreachable (${err instanceof Error ? err.message : String(err)})` };
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
