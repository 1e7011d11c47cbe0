import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Cloudflare Queues cap a message at 128 KB and a batch at 100 messages and
 * 256 KB; the telemetry producers (spend logs, callbacks) pack what an
 * isolate gathered into as few messages and `sendBatch` calls as fit under
 * these, with room to spare for the envelope.
 */
export const MAX_MESSAGE_BYTES = 100 * 1024;
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 240 * 1024;

/** An upper bound of a JSON text's UTF-8 size without encoding it: ASCII is its length, anything else at most 3 bytes a unit. */
export function utf8Bound(json: string): number {
  return /[^\x00-\x7f]/.test(json) ? json.length * 3 : json.length;
}

/** Entries (each with its size bound) → messages (≤ 100 KB each) → batches (≤ 100 messages, ≤ 240 KB each), in order. */
export function packForQueue<E extends { bytes: number }, T>(entries: readonly E[], valueOf: (entry: E) => T): T[][][] {
  const messages: { values: T[]; bytes: number }[] = [];
  let current = { values: [] as T[], bytes: 0 };
  for (const entry of entries) {
    if (current.values.length && current.bytes + entry.bytes > MAX_MESSAGE_BYTES) {
      messages.push(current);
      current = { values: [], bytes: 0 };
    }
    current.values.push(valueOf(entry));
    current.bytes += entry.bytes;
  }
  if (current.values.length) messages.push(current);
  const batches: T[][][] = [];
  let batch: T[][] = [];
  let size = 0;
  for (const message of messages) {
    if (batch.length && (batch.length >= MAX_BATCH_MESSAGES || size + message.bytes > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(message.values);
    size += message.bytes;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/**
 * A pack's body on the Queue: its JSON, gzip-compressed, sent as `bytes`.
 * Measured with `npm run bench`: in workerd the Queue's cost grows with the
 * bytes it moves (its Worker decodes each message byte by byte and stores it
 * in SQLite), and a pack of similar records shrinks about fifteenfold. zlib
 * is native (node:zlib under nodejs_compat) and its one synchronous call
 * costs about a microsecond a record at level 1, far less than the bytes it saves.
 */
export function encodePack(json: string): Uint8Array {
  return gzipSync(json, { level: 1 });
}

/** A message body as its producer meant it: a compressed pack decoded, anything else (a `json` message) as it is. Throws on a corrupt pack. */
export function decodePack(body: unknown): unknown {
  if (!(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) return body;
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as unknown;
}
