/**
 * A queue message's events for one destination, as the consumer forwards them: pure (no Workers bindings), so
 * the standard loggers' posters and their tests depend on nothing but this.
 */

/** Events of one message for one destination: their JSON, comma-separated, as UTF-8 (forwarded as they are). */
export interface EventSegment {
  bytes: Uint8Array;
  events: number;
}

const encoder = new TextEncoder();

/** A request body of the segments' bytes joined with commas, unparsed, between `head` and `tail` (Langfuse's, OTLP's, a logger's). */
export function joinedBody(headText: string, segments: readonly EventSegment[], tailText: string): Uint8Array {
  const head = encoder.encode(headText);
  const tail = encoder.encode(tailText);
  const size = head.byteLength + tail.byteLength + segments.reduce((n, s) => n + s.bytes.byteLength, 0) + Math.max(0, segments.length - 1);
  const body = new Uint8Array(size);
  body.set(head, 0);
  let at = head.byteLength;
  segments.forEach((s, i) => {
    if (i > 0) body[at++] = 44; // ','
    body.set(s.bytes, at);
    at += s.bytes.byteLength;
  });
  body.set(tail, at);
  return body;
}
