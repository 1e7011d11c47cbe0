import type { CallbackDestination } from './types.ts';

/**
 * A callback Queue message (v2), compressed like every telemetry pack: one
 * destination's events (a Langfuse project's, or OpenTelemetry spans), as two lines. The first is the header
 * `{"v":2,"destination":…,"events":N}`; the second the events' JSON array,
 * made by the gateway exactly as Langfuse's ingestion `batch` takes it, so the
 * consumer forwards those bytes without parsing them. JSON text holds no raw
 * newline, so the first newline ends the header.
 */
export interface CallbackHeader {
  v: 2;
  destination: CallbackDestination;
  /** How many events the array holds. */
  events: number;
}

/** The message text: the header, a newline, the events (`joined`: their JSON, comma-separated) as an array. */
export function callbackMessageText(destination: CallbackDestination, events: number, joined: string): string {
  return `${JSON.stringify({ v: 2, destination, events } satisfies CallbackHeader)}\n[${joined}]`;
}

/**
 * Characters of event JSON per message: one message is one ingestion request
 * (its events are never taken apart again), and Langfuse takes 3.5 MB a
 * request; this many characters are at most 3 MB of UTF-8.
 */
export const CALLBACK_MESSAGE_CHARS = 1024 * 1024;

/** One string per destination, for grouping. */
export const destinationKey = (d: CallbackDestination): string =>
  d.source === 'otel' && d.exporter ? `otel:${d.exporter}${d.key ? `:key:${d.key}` : d.team ? `:team:${d.team}` : ''}` : d.source === 'env' || d.source === 'otel' ? d.source : d.source === 'key' ? `key:${d.token}` : d.source === 'logger' ? `logger:${d.name}${d.key ? `:key:${d.key}` : d.team ? `:team:${d.team}` : ''}` : `team:${d.teamId}`;
