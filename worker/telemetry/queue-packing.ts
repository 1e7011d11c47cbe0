import { gunzipSync, gzipSync } from 'node:zlib';
import { SEND_ATTEMPTS, sendWithRetry } from './send-retry.ts';

/**
 * Cloudflare Queues cap a message at 128 KB and a batch at 100 messages and
 * 256 KB; the telemetry producers (spend logs, callbacks) pack what an
 * isolate gathered into as few messages and `sendBatch` calls as fit under
 * these, with room to spare for the envelope.
 *
 * A message's body is its entries' JSON, joined into the message's JSON and
 * gzip-compressed (sent as `bytes`). Measured with `npm run bench`: in
 * workerd the Queue's cost grows with the bytes it moves (its Worker decodes
 * each message byte by byte and stores it in SQLite), and a pack of similar
 * records shrinks about fifteenfold. zlib is native (node:zlib under
 * nodejs_compat); one synchronous call costs about a microsecond a record at
 * level 1, far less than the bytes it saves.
 */
export const MAX_MESSAGE_BYTES = 100 * 1024;
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 240 * 1024;
/** Characters of JSON gathered into one message before compressing: similar records compress far below the cap. */
const MESSAGE_CHARS = 512 * 1024;

/** An entry serialised once, by its producer: the message is made of these texts. */
export interface PackEntry {
  json: string;
}

/** One message: its compressed body and the entries in it (for logging what a failed send held). */
export interface PackedMessage<E> {
  body: Uint8Array;
  entries: E[];
}

/**
 * Entries → messages → batches, in order. Entries are gathered up to
 * MESSAGE_CHARS of JSON, `wrap` makes the message's JSON from their joined
 * texts, and the result is compressed; a message still over
 * MAX_MESSAGE_BYTES compressed is split in two until it fits. An entry that
 * alone does not fit is left out and returned in `tooLarge`. Batches then
 * hold up to 100 messages and MAX_BATCH_BYTES of compressed bodies.
 */
export function packForQueue<E extends PackEntry>(entries: readonly E[], wrap: (joined: string) => string): { batches: PackedMessage<E>[][]; tooLarge: E[] } {
  const messages: PackedMessage<E>[] = [];
  const tooLarge: E[] = [];
  const emit = (group: E[]) => {
    const body = encodePack(wrap(group.map((e) => e.json).join(',')));
    if (body.byteLength <= MAX_MESSAGE_BYTES) {
      messages.push({ body, entries: group });
    } else if (group.length === 1) {
      tooLarge.push(...group);
    } else {
      const half = Math.ceil(group.length / 2);
      emit(group.slice(0, half));
      emit(group.slice(half));
    }
  };
  let current: E[] = [];
  let chars = 0;
  for (const entry of entries) {
    if (current.length && chars + entry.json.length > MESSAGE_CHARS) {
      emit(current);
      current = [];
      chars = 0;
    }
    current.push(entry);
    chars += entry.json.length;
  }
  if (current.length) emit(current);

  const batches: PackedMessage<E>[][] = [];
  let batch: PackedMessage<E>[] = [];
  let size = 0;
  for (const message of messages) {
    if (batch.length && (batch.length >= MAX_BATCH_MESSAGES || size + message.body.byteLength > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(message);
    size += message.body.byteLength;
  }
  if (batch.length) batches.push(batch);
  return { batches, tooLarge };
}

/** The Queue producer binding, as far as shipping packs needs it. */
export interface PackQueue {
  sendBatch(messages: { body: Uint8Array; contentType: 'bytes' }[]): Promise<unknown>;
}

/**
 * Packs the entries (packForQueue) and sends each batch with `sendBatch`,
 * retried (sendWithRetry). Never throws: what could not be sent is logged
 * with the ids it concerns (`what` names them: "spend log", "request").
 */
export async function shipPacks<E extends PackEntry>(queue: PackQueue, entries: readonly E[], wrap: (joined: string) => string, what: { noun: string; idOf(entry: E): string }): Promise<void> {
  const ids = (list: E[]) => `${list.length} (${list.slice(0, 5).map(what.idOf).join(', ')}${list.length > 5 ? ', ...' : ''})`;
  let packed: ReturnType<typeof packForQueue<E>>;
  try {
    packed = packForQueue(entries, wrap);
  } catch (err) {
    console.error(`${what.noun} send failed: ${ids([...entries])} could not be packed:`, err instanceof Error ? err.message : String(err));
    return;
  }
  if (packed.tooLarge.length) console.error(`${what.noun}: ${ids(packed.tooLarge)} too large for a queue message even compressed; not sent`);
  for (const batch of packed.batches) {
    const err = await sendWithRetry(() => queue.sendBatch(batch.map((m) => ({ body: m.body, contentType: 'bytes' }))));
    if (err !== undefined) {
      console.error(`${what.noun} send failed ${SEND_ATTEMPTS} times for ${ids(batch.flatMap((m) => m.entries))}:`, err instanceof Error ? err.message : String(err));
    }
  }
}

/** An upper bound of a JSON text's UTF-8 size without encoding it: ASCII is its length, anything else at most 3 bytes a unit. */
export function utf8Bound(json: string): number {
  return /[^\x00-\x7f]/.test(json) ? json.length * 3 : json.length;
}

export function encodePack(json: string): Uint8Array {
  return gzipSync(json, { level: 1 });
}

/** A message body as its producer meant it: a compressed pack decoded, anything else (a `json` message) as it is. Throws on a corrupt pack. */
export function decodePack(body: unknown): unknown {
  if (!(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) return body;
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as unknown;
}
