import type { UsageReport } from '../providers/types.ts';

/**
 * What a route already read of the answer its `send` returns (Google's Interactions API: answer.ts reads and
 * rewrites it whole), so passThroughCall neither reads the body again nor parses it again.
 */
export interface ReadAnswer {
  /** The body as the client gets it. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Its JSON, parsed once, when it is JSON: the usage is read from it. */
  value?: unknown;
  /**
   * An answer the provider charged for that the client does not get (too large to pass on: the client gets a
   * 502): its usage, or `estimate` when none could be read (billed at the reservation's estimate).
   */
  charged?: UsageReport | 'estimate';
}

const known = new WeakMap<Response, ReadAnswer>();

/** `response`, known to passThroughCall as already read (its body is `read.bytes`). */
export function withReadAnswer(response: Response, read: ReadAnswer): Response {
  known.set(response, read);
  return response;
}

/** What was already read of `response`, if a route read it (a WeakMap lookup: nothing for other answers). */
export function readAnswerOf(response: Response): ReadAnswer | undefined {
  return known.get(response);
}
