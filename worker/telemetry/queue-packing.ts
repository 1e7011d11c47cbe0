import { gunzipSync, gzipSync } from 'node:zlib';
import { SEND_ATTEMPTS, sendWithRetry } from './send-retry.ts';

/**
 * Cloudflare Queues cap a message at 128 KB and a batch at 100 messages and
 * 256 KB; the telemetry producers (spend logs, callbacks) pack what an
 * isolate gathered into as few messages as fit under these, with room to
 * spare for the envelope.
 *
 * A message's body is its entries' JSON, joined into the message's text and
 * gzip-compressed (sent as `bytes`). Measured with `npm run bench`: in
 * workerd the Queue's cost grows with the bytes it moves (it stores each
 * message in SQLite; a batch's bodies it even decodes byte by byte, so a
 * lone message goes with `send`), and a pack of similar records shrinks
 * about fifteenfold. zlib is native (node:zlib under
 * nodejs_compat); one synchronous call costs about a microsecond a record at
 * level 1, far less than the bytes it saves.
 */
export const MAX_MESSAGE_BYTES = 100 * 1024;
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 240 * 1024;
/** Characters of JSON gathered into one message before compressing (by default): similar records compress far below the cap. */
const MESSAGE_CHARS = 1024 * 1024;

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
 * `messageChars` of JSON, `wrap` makes the message's text from their joined
 * texts (and the group they are), and the result is compressed; a message still over
 * MAX_MESSAGE_BYTES compressed is split in two until it fits. An entry that
 * alone does not fit is left out and returned in `tooLarge`. Batches then
 * hold up to 100 messages and MAX_BATCH_BYTES of compressed bodies.
 */
export function packForQueue<E extends PackEntry>(entries: readonly E[], wrap: (joined: string, group: readonly E[]) => string, messageChars = MESSAGE_CHARS): { batches: PackedMessage<E>[][]; tooLarge: E[] } {
  const messages: PackedMessage<E>[] = [];
  const tooLarge: E[] = [];
  const emit = (group: E[]) => {
    const body = encodePack(wrap(group.map((e) => e.json).join(','), group));
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
    if (current.length && chars + entry.json.length > messageChars) {
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
  send(body: Uint8Array, options: { contentType: 'bytes' }): Promise<unknown>;
  sendBatch(messages: { body: Uint8Array; contentType: 'bytes' }[]): Promise<unknown>;
}

/**
 * Packs the entries (packForQueue) and sends each batch (a lone message with
 * `send`, else `sendBatch`), retried (sendWithRetry). Never throws: what could not be sent is logged
 * with the ids it concerns (`what` names them: "spend log", "request").
 */
export async function shipPacks<E extends PackEntry>(queue: PackQueue, entries: readonly E[], wrap: (joined: string, group: readonly E[]) => string, what: { noun: string; idOf(entry: E): string; messageChars?: number }): Promise<void> {
  const ids = (list: E[]) => `${list.length} (${list.slice(0, 5).map(what.idOf).join(', ')}${list.length > 5 ? ', ...' : ''})`;
  let packed: ReturnType<typeof packForQueue<E>>;
  try {
    packed = packForQueue(entries, wrap, what.messageChars);
  } catch (err) {
    console.error(`${what.noun} send failed: ${ids([...entries])} could not be packed:`, err instanceof Error ? err.message : String(err));
    return;
  }
  if (packed.tooLarge.length) console.error(`${what.noun}: ${ids(packed.tooLarge)} too large for a queue message even compressed; not sent`);
  for (const batch of packed.batches) {
    // A lone message goes with `send`: workerd's Queue takes its bytes as they are, where a batch's travel
    // as base64 in JSON that its Worker decodes byte by byte.
    const only = batch.length === 1 ? batch[0] : undefined;
    const err = await sendWithRetry(() => only
      ? queue.send(only.body, { contentType: 'bytes' })
      : queue.sendBatch(batch.map((m) => ({ body: m.body, contentType: 'bytes' }))));
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
  const bytes = inflatePack(body);
  return bytes ? JSON.parse(utf8.decode(bytes)) as unknown : body;
}

const utf8 = new TextDecoder();

/** A compressed pack's bytes uncompressed (undefined for a body that is not bytes: a `json` message). Throws on a corrupt pack. */
export function inflatePack(body: unknown): Uint8Array | undefined {
  if (!(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) return undefined;
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return gunzipSync(bytes);
}
