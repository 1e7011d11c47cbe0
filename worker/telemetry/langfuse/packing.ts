import { itemBytes, MAX_MESSAGE_BYTES } from '../queue-packing.ts';
import type { CallbackDestination, CallbackItem, IngestionEvent } from './types.ts';
import { boundedJson } from '../bounded-json.ts';
import { log } from '../log.ts';

/** Each of a call's (up to four) input and output fields is cut to this when the call would not fit in a message. */
const MAX_FIELD_CHARS = 20 * 1024;
/** Metadata (the client's) is cut to this when the call still does not fit. */
const MAX_METADATA_CHARS = 8 * 1024;

/** Room left in a message for its envelope and for gzip's overhead on text that does not compress. */
export const ITEM_BYTES = MAX_MESSAGE_BYTES - 1024;

/**
 * A call's events fitted for a message: their JSON, comma-separated (serialised once: the message is
 * made of it), how many there are, and an upper bound of its UTF-8 size. Only text: what waits for
 * the flush window holds no object of the call (see producer.ts).
 */
export interface FittedItem {
  callId: string;
  destination: CallbackDestination;
  events: number;
  json: string;
  bytes: number;
}

/** The item's events' JSON and its UTF-8 size, or an upper bound of it (scanned only when the size could matter). */
const serialise = (item: CallbackItem): FittedItem => {
  const json = item.events.map((e) => JSON.stringify(e)).join(',');
  return { callId: item.callId, destination: item.destination, events: item.events.length, json, bytes: itemBytes(json, ITEM_BYTES) };
};

/**
 * The item's events with their size, cut down when it would not fit in a message: the
 * prompt and answer fields first (kept as `{truncated, original_chars,
 * head}`), then the client's metadata, tighter each round. Null (logged) when
 * even that does not fit.
 */
export function fitItem(item: CallbackItem): FittedItem | null {
  let fitted = serialise(item);
  if (fitted.bytes <= ITEM_BYTES) return fitted;
  for (const chars of [MAX_FIELD_CHARS, MAX_FIELD_CHARS / 8, 256]) {
    const events = item.events.map((e) => ({ ...e, body: cutBody(e.body as unknown as Record<string, unknown>, chars) })) as unknown as IngestionEvent[];
    fitted = serialise({ ...item, events });
    if (fitted.bytes <= ITEM_BYTES) return fitted;
  }
  log.error(`Langfuse events of call ${item.callId} do not fit in a queue message (${fitted.bytes} bytes); not sent`);
  return null;
}

/** A copy of an event body with input and output cut to `chars`, and its metadata too once that is tight. */
function cutBody(body: Record<string, unknown>, chars: number): Record<string, unknown> {
  const out = { ...body };
  for (const field of ['input', 'output']) if (out[field] !== undefined) out[field] = boundedJson(out[field], chars);
  if (chars < MAX_FIELD_CHARS && out.metadata && typeof out.metadata === 'object') {
    const metadata = { ...(out.metadata as Record<string, unknown>) };
    for (const key of ['requester_metadata', 'metadata_passed_to_litellm']) if (metadata[key] !== undefined) metadata[key] = boundedJson(metadata[key], chars);
    out.metadata = boundedJson(metadata, Math.max(chars, MAX_METADATA_CHARS));
  }
  return out;
}

