import type { GatewayEnv } from '../../env.ts';
import { shipPacks } from '../queue-packing.ts';
import { CALLBACK_MESSAGE_CHARS, callbackMessageText, destinationKey } from './message.ts';
import { type FittedItem, fitItem } from './packing.ts';
import type { CallbackItem } from './types.ts';
import { log } from '../log.ts';

/**
 * How long an isolate gathers calls' events before shipping them: fewer,
 * larger Queue messages, as for spend logs (each message costs the Queue the
 * same work whatever it holds), and half as long again as their window, so a
 * call's two sends do not land together. In workerd each send holds the
 * thread requests share for about a millisecond (measured with `npm run
 * bench`: both at once held a stream's chunk back 2 ms, apart 1.5 ms at
 * most). The chart's preStop lets the last window ship before SIGTERM.
 */
export const CALLBACK_FLUSH_MS = 600;

let buffered: FittedItem[] = [];
let flushScheduled = false;
let warnedNoQueue = false;

/**
 * Queues one call's Langfuse events for the admin Worker, as spend logs are
 * queued: gathered per isolate for CALLBACK_FLUSH_MS, packed per Langfuse
 * destination into messages of at most 100 KB compressed (message.ts: a
 * header line and the events as Langfuse takes them, forwarded by the
 * consumer unparsed). Never a Queue send per request, and never a wait on
 * Langfuse: the consumer talks to it. The events are serialised here, once
 * the call is over, so what waits for the window is text: holding each call's
 * objects (body, headers, answer) until the flush made the isolate's young
 * generation survive into the old one (measured with `npm run bench:ab`, see
 * the README's benchmark section).
 */
export function enqueueCallback(env: GatewayEnv, ctx: { waitUntil(p: Promise<unknown>): void }, item: CallbackItem): void {
  const fitted = fitItem(item);
  if (fitted) enqueueFitted(env, ctx, fitted);
}

/** Queues one call's events already serialised and fitted for a message (Langfuse's, or an OpenTelemetry span). */
export function enqueueFitted(env: GatewayEnv, ctx: { waitUntil(p: Promise<unknown>): void }, fitted: FittedItem): void {
  buffered.push(fitted);
  if (flushScheduled) return;
  flushScheduled = true;
  ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, CALLBACK_FLUSH_MS)).then(() => flushCallbacks(env)));
}

/** Ships everything buffered. Never throws: a failure is logged with the call ids it concerns. */
export async function flushCallbacks(env: GatewayEnv): Promise<void> {
  const pending = buffered;
  buffered = [];
  flushScheduled = false;
  if (pending.length === 0) return;
  const queue = env.CALLBACK_QUEUE;
  if (!queue) {
    if (!warnedNoQueue) log.warn(`no CALLBACK_QUEUE binding: Langfuse events and OpenTelemetry spans are not sent (${pending.length} calls in this flush)`);
    warnedNoQueue = true;
    return;
  }
  // Per destination (nearly always one: config.yaml's Langfuse, and the spans of `otel`), as a message goes to one of them.
  const byDestination = new Map<string, FittedItem[]>();
  for (const fitted of pending) {
    const key = destinationKey(fitted.destination);
    const list = byDestination.get(key);
    if (list) list.push(fitted);
    else byDestination.set(key, [fitted]);
  }
  for (const items of byDestination.values()) {
    const destination = (items[0] as FittedItem).destination;
    const wrap = (joined: string, group: readonly FittedItem[]) => callbackMessageText(destination, group.reduce((n, f) => n + f.events, 0), joined);
    await shipPacks(queue, items, wrap, { noun: destination.source === 'otel' ? 'OpenTelemetry span' : destination.source === 'logger' ? `${destination.name} payload` : 'Langfuse callback', idOf: (e) => e.callId, messageChars: CALLBACK_MESSAGE_CHARS });
  }
}
