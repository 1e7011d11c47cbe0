/**
 * The StandardLoggingPayloads a poster reads from its segments, parsed from the bytes the gateway queued, and the
 * answer for a batch that does not read: shared by the posters that build their own request from each payload.
 */
import type { EventSegment } from '../segment.ts';
import type { PostResult } from './types.ts';

/** A JSON object: a payload, or a part of one. */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

const utf8 = new TextDecoder();

/** The segments' payloads, in order. Throws when their JSON does not parse. */
export function payloadsOf(segments: readonly EventSegment[]): Json[] {
  return segments.flatMap((segment) => JSON.parse(`[${utf8.decode(segment.bytes)}]`) as Json[]);
}

/**
 * The call's start (`startTime`, epoch seconds), the time now for a payload without one: the loggers that write
 * a file per payload date it by this rather than the upload, so a retried upload names the same file.
 */
export const startSeconds = (payload: Json): number =>
  typeof payload.startTime === 'number' && Number.isFinite(payload.startTime) ? payload.startTime : Date.now() / 1000;

const pad = (n: number) => String(n).padStart(2, '0');

/** A moment's UTC day as LiteLLM's folders name it: `YYYY-MM-DD`. */
export const utcDay = (d: Date): string => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** bounded-json's marker of client metadata cut for size: not the client's keys, never copied anywhere. */
const TRUNCATION_MARKER = new Set(['truncated', 'original_chars', 'head']);

/**
 * The client's request metadata as a payload carries it (`metadata.requester_metadata`), without the marker of a
 * copy cut for size; `cut` when it was cut so (what is left: the identifiers kept through a cut, requester-ids.ts).
 */
export function clientMetadata(payload: Json): { keys: Json; cut: boolean } {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const requester = isObject(m.requester_metadata) ? m.requester_metadata : {};
  if (requester.truncated !== true || typeof requester.original_chars !== 'number') return { keys: requester, cut: false };
  return { keys: Object.fromEntries(Object.entries(requester).filter(([k]) => !TRUNCATION_MARKER.has(k))), cut: true };
}

/**
 * Payloads that do not parse, or that no request can be made of (what was thrown reading them): never retried,
 * so the dispatcher splits the request down to the payload at fault and drops it alone.
 */
export function unreadable(err: unknown): PostResult {
  return { ok: false, retry: false, reason: `payloads that do not parse: ${err instanceof Error ? err.message : String(err)}` };
}
