import { reportCallbackFailure } from '../../worker/telemetry/metrics/hooks.ts';
import type { CallbackItem, CallbackMessage, IngestionEvent, LangfuseDestination } from '../../worker/telemetry/langfuse/types.ts';
import { decodePack } from '../../worker/telemetry/queue-packing.ts';
import { inSlices } from '../../worker/telemetry/yield.ts';
import type { AdminEnv } from '../env.ts';
import { destinationKey, type LangfuseCredentials, type Resolved, resolveDestinations } from './callbacks/credentials.ts';
import { chunkEvents, type EventChunk, postIngestion } from './callbacks/ingestion.ts';
import { retryDelay } from './callbacks/retry.ts';

export const CALLBACK_QUEUE = 'tollgate-callbacks';

/** How long Langfuse gets to answer one ingestion request (`LANGFUSE_TIMEOUT`, seconds, overrides it). */
const DEFAULT_TIMEOUT_S = 10;

type Items = CallbackMessage['items'];

/**
 * Posts the Langfuse events of one Queue batch: every message's items are
 * grouped by the Langfuse project they go to (credentials resolved here,
 * never carried on the Queue), sent in as few ingestion requests as fit, and
 * each message is acked once all its events were taken, or retried with
 * backoff when Langfuse is down, slow, refuses the credentials or fails an
 * event with a 5xx. Events Langfuse rejects as invalid (4xx in its 207) are
 * logged, not retried: they would never be valid. A retried message is sent
 * again whole; Langfuse upserts by event body id, so events it already took
 * are not duplicated.
 */
export async function consumeCallbacks(batch: MessageBatch<unknown>, env: AdminEnv, ctx: ExecutionContext): Promise<void> {
  // Decoded one message at a time, with a turn for requests between them (a batch can be a second of traffic).
  const messages: { message: Message<unknown>; items: CallbackItem[] }[] = [];
  await inSlices(batch.messages, 1, (m) => messages.push({ message: m, items: itemsOf(m.body) }));
  const failed = new Set<number>();
  const retry = (index: number) => failed.add(index);

  const destinations = new Map<string, LangfuseDestination>();
  for (const { items } of messages) for (const item of items) destinations.set(destinationKey(item.destination), item.destination);
  let resolved: Map<string, Resolved>;
  try {
    resolved = await resolveDestinations([...destinations.values()], env, ctx);
  } catch (err) {
    console.error(`Langfuse callbacks: cannot read key or team credentials, retrying ${batch.messages.length} messages: ${err instanceof Error ? err.message : String(err)}`);
    for (const { message } of messages) message.retry({ delaySeconds: retryDelay(message.attempts) });
    return;
  }

  // Events per Langfuse project, each remembering the message it came from.
  const groups = new Map<string, { credentials: LangfuseCredentials; events: IngestionEvent[]; origin: Map<string, number> }>();
  const unresolved = new Map<string, string>();
  messages.forEach(({ items }, index) => {
    for (const item of items) {
      const key = destinationKey(item.destination);
      const target = resolved.get(key);
      if (!target?.ok) {
        unresolved.set(key, target?.reason ?? 'unknown destination');
        retry(index);
        continue;
      }
      const { credentials } = target;
      const groupKey = `${credentials.host}\n${credentials.publicKey}\n${credentials.secretKey}`;
      let group = groups.get(groupKey);
      if (!group) groups.set(groupKey, (group = { credentials, events: [], origin: new Map() }));
      for (const event of item.events) {
        group.events.push(event);
        group.origin.set(event.id, index);
      }
    }
  });
  for (const [key, reason] of unresolved) {
    console.error(`Langfuse callbacks for ${key.startsWith('key:') ? `key ${key.slice(4, 14)}...` : key}: ${reason}; will retry`);
  }

  const timeoutMs = timeoutOf(env);
  const posts: { group: { credentials: LangfuseCredentials; events: IngestionEvent[]; origin: Map<string, number> }; chunk: EventChunk }[] = [];
  for (const group of groups.values()) for (const chunk of await chunkEvents(group.events)) posts.push({ group, chunk });
  await Promise.all(posts.map(async ({ group, chunk }) => {
    const { events } = chunk;
    const result = await postIngestion(group.credentials, chunk, timeoutMs);
    const where = `${group.credentials.host} (${group.credentials.publicKey})`;
    if (!result.ok) {
      console.error(`Langfuse ingestion at ${where} failed for ${events.length} events, retrying: ${result.reason}`);
      reportCallbackFailure(env, ctx, { callback: 'langfuse', error: new Error(result.reason) });
      for (const event of events) retry(group.origin.get(event.id) as number);
      return;
    }
    for (const id of result.retry) {
      const index = group.origin.get(id);
      if (index !== undefined) retry(index);
    }
    if (result.retry.size) console.error(`Langfuse ingestion at ${where}: ${result.retry.size} events failed on Langfuse's side, retrying`);
    for (const r of result.rejected) console.error(`Langfuse ingestion at ${where} rejected event ${r.id} (${r.status}): ${r.message}`);
  }));

  messages.forEach(({ message }, index) => {
    if (failed.has(index)) message.retry({ delaySeconds: retryDelay(message.attempts) });
    else message.ack();
  });
}

function timeoutOf(env: AdminEnv): number {
  const seconds = Number(env.LANGFUSE_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_S) * 1000;
}

/** The items of a message (compressed as the gateway sends it, or plain); anything that is not a CallbackMessage holds none (and is acked). */
function itemsOf(raw: unknown): Items {
  let body: unknown;
  try {
    body = decodePack(raw);
  } catch (err) {
    console.error(`Langfuse callbacks: dropping a message that does not decode: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
  if (!body || typeof body !== 'object' || !Array.isArray((body as CallbackMessage).items)) {
    console.error('Langfuse callbacks: dropping a message that is not a callback message');
    return [];
  }
  return (body as CallbackMessage).items.filter((item): item is CallbackItem =>
    !!item && item.callback === 'langfuse' && !!item.destination && typeof item.destination.source === 'string' && Array.isArray(item.events));
}
