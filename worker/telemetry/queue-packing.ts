import { gunzipSync, gzipSync } from 'node:zlib';
import { SEND_ATTEMPTS, sendWithRetry } from './send-retry.ts';
import { log } from './log.ts';

/**
 * Cloudflare Queues cap a message at 128 KB; the telemetry producers (spend
 * logs, callbacks) pack what an isolate gathered into as few messages as fit
 * under it, with room to spare for the envelope.
 *
 * A message's body is its entries' JSON, joined into the message's text and
 * gzip-compressed (sent as `bytes`). Measured with `npm run bench`: in
 * workerd the Queue's cost grows with the bytes it moves (it stores each
 * message in SQLite) and with the messages (each is stored, leased, handed to
 * the consumer and deleted), and a pack of similar records shrinks about
 * fifteenfold. zlib is native (node:zlib under nodejs_compat); one
 * synchronous call costs about a microsecond a record at level 1, far less
 * than the bytes it saves.
 */
export const MAX_MESSAGE_BYTES = 100 * 1024;
/** Characters of JSON gathered into one message before compressing (by default): similar records compress far below the cap. */
const MESSAGE_CHARS = 1024 * 1024;

/** An entry serialised once, by its producer: the message is made of these texts. */
export interface PackEntry {
  json: string;
}

/** One message: its compressed body and the entries in it (for logging what a failed send held); or an entry too large alone. */
export type Packed<E> = { body: Uint8Array; entries: E[] } | { tooLarge: E };

/**
 * Entries → messages, in order, made one at a time as they are asked for (so
 * a producer that sends each before asking for the next compresses one
 * message between two turns of the event loop, not a whole flush). Entries
 * are gathered up to `messageChars` of JSON, `wrap` makes the message's text
 * from their joined texts (and the group they are), and the result is
 * compressed; a message still over MAX_MESSAGE_BYTES compressed is split in
 * two until it fits. An entry that alone does not fit comes as `tooLarge`.
 */
export function* packMessages<E extends PackEntry>(entries: readonly E[], wrap: (joined: string, group: readonly E[]) => string, messageChars = MESSAGE_CHARS): Generator<Packed<E>> {
  function* emit(group: E[]): Generator<Packed<E>> {
    const body = encodePack(wrap(group.map((e) => e.json).join(','), group));
    if (body.byteLength <= MAX_MESSAGE_BYTES) {
      yield { body, entries: group };
    } else if (group.length === 1) {
      yield { tooLarge: group[0] as E };
    } else {
      const half = Math.ceil(group.length / 2);
      yield* emit(group.slice(0, half));
      yield* emit(group.slice(half));
    }
  }
  let current: E[] = [];
  let chars = 0;
  for (const entry of entries) {
    if (current.length && chars + entry.json.length > messageChars) {
      yield* emit(current);
      current = [];
      chars = 0;
    }
    current.push(entry);
    chars += entry.json.length;
  }
  if (current.length) yield* emit(current);
}

/** The Queue producer binding, as far as shipping packs needs it. */
export interface PackQueue {
  send(body: Uint8Array, options: { contentType: 'bytes' }): Promise<unknown>;
}

/** How long a flush may keep sending (and retrying) before it gives up on the rest, logged: inside `waitUntil`'s 30 s. */
export const SHIP_BUDGET_MS = 20_000;

/**
 * Packs the entries (packMessages) and sends each message with its own
 * `send`, retried (sendWithRetry), before packing the next. Not `sendBatch`:
 * in workerd a batch's bodies travel as base64 in JSON that its Queue Worker
 * decodes byte by byte (bench:ab: 3% of the gateway's throughput), where
 * `send` hands its bytes over as they are; on Cloudflare both cost the same
 * operations per 64 KB. A flush runs in `waitUntil`, which Cloudflare ends
 * after 30 s: past `budgetMs` (SHIP_BUDGET_MS; a Queue failing every send
 * costs each message about 2 s of retries) the rest is not tried. Never
 * throws: what could not be sent is logged as it is given up on, with every
 * id it concerns (`what` names them: "spend log", "request").
 */
export async function shipPacks<E extends PackEntry>(queue: PackQueue, entries: readonly E[], wrap: (joined: string, group: readonly E[]) => string, what: { noun: string; idOf(entry: E): string; messageChars?: number; budgetMs?: number }): Promise<void> {
  const ids = (list: readonly E[]) => `${list.length} (${list.map(what.idOf).join(', ')})`;
  const giveUpAt = Date.now() + (what.budgetMs ?? SHIP_BUDGET_MS);
  // Messages come in the entries' order: what was sent or given up on so far is a prefix of them.
  let done = 0;
  try {
    for (const packed of packMessages(entries, wrap, what.messageChars)) {
      if ('tooLarge' in packed) {
        log.error(`${what.noun}: ${ids([packed.tooLarge])} too large for a queue message even compressed; not sent`);
        done++;
        continue;
      }
      if (Date.now() >= giveUpAt) {
        log.error(`${what.noun} send given up: ${ids(entries.slice(done))} not sent, the flush's ${what.budgetMs ?? SHIP_BUDGET_MS} ms are spent`);
        return;
      }
      const err = await sendWithRetry(() => queue.send(packed.body, { contentType: 'bytes' }));
      if (err !== undefined) {
        log.error(`${what.noun} send failed ${SEND_ATTEMPTS} times for ${ids(packed.entries)}:`, err instanceof Error ? err.message : String(err));
      }
      done += packed.entries.length;
    }
  } catch (err) {
    log.error(`${what.noun} send failed: ${ids(entries.slice(done))} could not be packed:`, err instanceof Error ? err.message : String(err));
  }
}

/** An upper bound of a JSON text's UTF-8 size without encoding it: ASCII is its length, anything else at most 3 bytes a unit. */
export function utf8Bound(json: string): number {
  return /[^\x00-\x7f]/.test(json) ? json.length * 3 : json.length;
}

/**
 * A queued item's UTF-8 size for a check against `limit`: 3 bytes a UTF-16 unit while that is under the limit (no
 * scan), else the exact count (utf8Length), so a long mostly-ASCII item holding one non-ASCII character is not taken
 * for three times its size and cut down for nothing. Never less than the encoded size.
 */
export function itemBytes(json: string, limit: number): number {
  return json.length * 3 <= limit ? json.length * 3 : utf8Length(json);
}

/**
 * A text's exact UTF-8 size, counted in one pass without encoding it (1, 2 or 3 bytes a UTF-16 unit, 4 a
 * surrogate pair; a lone surrogate 3, as U+FFFD): where utf8Bound's 3 bytes a unit for a text holding one
 * non-ASCII character would call a mostly-ASCII text three times its size.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
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
