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
 * Payloads that do not parse, or that no request can be made of (what was thrown reading them): never retried,
 * so the dispatcher splits the request down to the payload at fault and drops it alone.
 */
export function unreadable(err: unknown): PostResult {
  return { ok: false, retry: false, reason: `payloads that do not parse: ${err instanceof Error ? err.message : String(err)}` };
}
