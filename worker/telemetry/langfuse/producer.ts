import type { GatewayEnv } from '../../env.ts';
import { shipPacks } from '../queue-packing.ts';
import { inSlices } from '../yield.ts';
import { CALLBACK_MESSAGE_CHARS, callbackMessageText, destinationKey } from './message.ts';
import { type FittedItem, fitItem } from './packing.ts';
import type { CallbackItem } from './types.ts';

/**
 * How long an isolate gathers calls' events before shipping them: fewer,
 * larger Queue messages, as for spend logs (each message costs the Queue the
 * same work whatever it holds), and half as long again as their window, so a
 * call's two sends do not land together. In workerd each send holds the
 * thread requests share for about a millisecond (measured with `npm run
 * bench`: both at once held a stream's chunk back 2 ms, apart 1.5 ms at
 * most). The chart's preStop lets the last window ship before SIGTERM.
 */
export const CALLBACK_FLUSH_MS = 150;

/** Calls whose events are built between two turns of the event loop (yield.ts): about half a millisecond. */
const BUILD_SLICE = 20;

/** A call whose events are built at flush time, off the request's own path. */
type PendingItem = () => CallbackItem;

let buffered: PendingItem[] = [];
let flushScheduled = false;
let warnedNoQueue = false;

/**
 * Queues one call's Langfuse events for the admin Worker, as spend logs are
 * queued: gathered per isolate for CALLBACK_FLUSH_MS, packed per Langfuse
 * destination into messages of at most 100 KB compressed (message.ts: a
 * header line and the events as Langfuse takes them, forwarded by the
 * consumer unparsed). Never a Queue send per request, and never a wait on
 * Langfuse: the consumer talks to it. The events themselves are built when
 * the window closes, so a request pays only for a push.
 */
export function enqueueCallback(env: GatewayEnv, ctx: { waitUntil(p: Promise<unknown>): void }, build: PendingItem): void {
  buffered.push(build);
  if (flushScheduled) return;
  flushScheduled = true;
  ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, CALLBACK_FLUSH_MS)).then(() => flushCallbacks(env)));
}

/** Builds and ships everything buffered. Never throws: a failure is logged with the call ids it concerns. */
export async function flushCallbacks(env: GatewayEnv): Promise<void> {
  const pending = buffered;
  buffered = [];
  flushScheduled = false;
  if (pending.length === 0) return;
  const queue = env.CALLBACK_QUEUE;
  if (!queue) {
    if (!warnedNoQueue) console.warn(`no CALLBACK_QUEUE binding: Langfuse events are not sent (${pending.length} calls in this flush)`);
    warnedNoQueue = true;
    return;
  }
  // Per destination (nearly always one: config.yaml's Langfuse), as a message goes to one Langfuse project.
  const byDestination = new Map<string, FittedItem[]>();
  await inSlices(pending, BUILD_SLICE, (build) => {
    try {
      const fitted = fitItem(build());
      if (!fitted) return;
      const key = destinationKey(fitted.item.destination);
      const list = byDestination.get(key);
      if (list) list.push(fitted);
      else byDestination.set(key, [fitted]);
    } catch (err) {
      console.error('Langfuse events could not be built:', err instanceof Error ? err.message : String(err));
    }
  });
  for (const items of byDestination.values()) {
    const destination = (items[0] as FittedItem).item.destination;
    const wrap = (joined: string, group: readonly FittedItem[]) => callbackMessageText(destination, group.reduce((n, f) => n + f.item.events.length, 0), joined);
    await shipPacks(queue, items, wrap, { noun: 'Langfuse callback', idOf: (e) => e.item.callId, messageChars: CALLBACK_MESSAGE_CHARS });
  }
}
