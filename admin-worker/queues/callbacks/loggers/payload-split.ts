/**
 * A queue message's logger segment holds many StandardLoggingPayloads (their JSON texts, comma-separated, as
 * the gateway packed them). When a destination refuses a request for its payloads (400/413/422) the dispatcher
 * needs them one by one, to find and drop only the payload it refuses: cut here at the top-level commas,
 * without parsing (and so without changing) the payloads' bytes.
 */
import type { EventSegment } from '../segment.ts';

const COMMA = 44;
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = new Set([123, 91]); // { [
const CLOSE = new Set([125, 93]); // } ]

/**
 * The segment's payloads, each a segment of one payload (the bytes as they are). Only the failure path calls
 * this: one pass over the bytes, tracking strings and nesting. A UTF-8 multi-byte sequence never holds an
 * ASCII byte, so scanning bytes is safe.
 */
export function payloadSegments<S extends EventSegment>(segment: S): S[] {
  const { bytes } = segment;
  const out: S[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (inString) {
      if (escaped) escaped = false;
      else if (b === BACKSLASH) escaped = true;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (OPEN.has(b)) depth++;
    else if (CLOSE.has(b)) depth--;
    else if (b === COMMA && depth === 0) {
      out.push({ ...segment, bytes: bytes.subarray(start, i), events: 1 });
      start = i + 1;
    }
  }
  out.push({ ...segment, bytes: bytes.subarray(start), events: 1 });
  return out;
}

const utf8 = new TextDecoder();

/** A payload's call id (its `id`), for the log line that says which one was dropped; never its content. */
export function payloadId(segment: EventSegment): string {
  try {
    const parsed = JSON.parse(utf8.decode(segment.bytes)) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : 'unknown';
  } catch {
    return 'unknown (not JSON)';
  }
}
