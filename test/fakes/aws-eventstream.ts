/**
 * Encodes AWS event stream frames (`application/vnd.amazon.eventstream`)
 * the way Bedrock sends ConverseStream answers, with node:zlib's CRC-32, so
 * the gateway's decoder is checked against an independent implementation.
 */
import { crc32 } from 'node:zlib';

export interface FrameInput {
  headers: Record<string, string>;
  payload: unknown;
}

/** One frame; string headers only (type 7), which is all Bedrock sends. */
export function encodeFrame(frame: FrameInput): Uint8Array {
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(frame.headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(1 + n.length + 1 + 2);
    head.writeUInt8(n.length, 0);
    n.copy(head, 1);
    head.writeUInt8(7, 1 + n.length);
    head.writeUInt16BE(v.length, 2 + n.length);
    headerParts.push(head, v);
  }
  const payload = Buffer.from(typeof frame.payload === 'string' ? frame.payload : JSON.stringify(frame.payload), 'utf8');
  return frameBytes(Buffer.concat(headerParts), payload);
}

/** A frame around already-encoded headers: prelude, prelude CRC, headers, payload, message CRC. */
export function frameBytes(headers: Buffer, payload: Buffer): Uint8Array {
  const total = 12 + headers.length + payload.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, 12);
  payload.copy(out, 12 + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return new Uint8Array(out);
}

/** A ConverseStream event frame, padded with the `p` field Bedrock adds to every event. */
export function eventFrame(eventType: string, payload: Record<string, unknown>): Uint8Array {
  return encodeFrame({
    headers: { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    payload: { ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGH'.slice(0, 8 + (eventType.length % 20)) },
  });
}

export function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return encodeFrame({
    headers: { ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' },
    payload: { message },
  });
}

/** Fixture events (`{"type": ..., "event": {...}}` per line of a .jsonl file, or a list) as frames. */
export function fixtureFrames(events: { type: string; event?: Record<string, unknown>; exception?: string; message?: string }[]): Uint8Array[] {
  return events.map((e) => (e.exception ? exceptionFrame(e.exception, e.message ?? '') : eventFrame(e.type, e.event ?? {})));
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
