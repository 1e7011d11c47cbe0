import { MAX_MESSAGE_BYTES, packForQueue } from '../queue-packing.ts';
import type { CallbackItem, IngestionEvent } from './types.ts';

/** Each of a call's (up to four) input and output fields is cut to this when the call would not fit in a message. */
const MAX_FIELD_CHARS = 20 * 1024;
/** Metadata (the client's) is cut to this when the call still does not fit. */
const MAX_METADATA_CHARS = 8 * 1024;

/** UTF-8 bytes of the value's JSON, what the Queue counts. */
/** An upper bound of the UTF-8 size, without encoding: ASCII text is its length, anything else at most 3 bytes a unit. */
const sizeOf = (value: unknown): number => {
  const json = JSON.stringify(value);
  return /[^\x00-\x7f]/.test(json) ? json.length * 3 : json.length;
};

/**
 * The item with its size, cut down when it would not fit in a message: the
 * prompt and answer fields first (kept as `{truncated, original_chars,
 * head}`), then the client's metadata, tighter each round. Null (logged) when
 * even that does not fit.
 */
export function fitItem(item: CallbackItem): { item: CallbackItem; bytes: number } | null {
  let bytes = sizeOf(item);
  if (bytes <= MAX_MESSAGE_BYTES) return { item, bytes };
  for (const chars of [MAX_FIELD_CHARS, MAX_FIELD_CHARS / 8, 256]) {
    const events = item.events.map((e) => ({ ...e, body: cutBody(e.body as unknown as Record<string, unknown>, chars) })) as unknown as IngestionEvent[];
    const fitted: CallbackItem = { ...item, events };
    bytes = sizeOf(fitted);
    if (bytes <= MAX_MESSAGE_BYTES) return { item: fitted, bytes };
  }
  console.error(`Langfuse events of call ${item.callId} do not fit in a queue message (${bytes} bytes); not sent`);
  return null;
}

/** A copy of an event body with input and output cut to `chars`, and its metadata too once that is tight. */
function cutBody(body: Record<string, unknown>, chars: number): Record<string, unknown> {
  const out = { ...body };
  for (const field of ['input', 'output']) if (out[field] !== undefined) out[field] = bounded(out[field], chars);
  if (chars < MAX_FIELD_CHARS && out.metadata && typeof out.metadata === 'object') {
    const metadata = { ...(out.metadata as Record<string, unknown>) };
    for (const key of ['requester_metadata', 'metadata_passed_to_litellm']) if (metadata[key] !== undefined) metadata[key] = bounded(metadata[key], chars);
    out.metadata = bounded(metadata, Math.max(chars, MAX_METADATA_CHARS));
  }
  return out;
}

/** The value itself when its JSON fits, else its JSON cut to `max` characters and marked (as spend logs bound theirs). */
function bounded(value: unknown, max: number): unknown {
  const json = typeof value === 'string' ? value : JSON.stringify(value);
  if (json.length <= max) return value;
  return { truncated: true, original_chars: json.length, head: json.slice(0, max) };
}

/** Items → messages (≤ 100 KB each) → batches (≤ 100 messages, ≤ 240 KB each). */
export function packMessages(items: { item: CallbackItem; bytes: number }[]): CallbackItem[][][] {
  return packForQueue(items, (e) => e.item);
}
