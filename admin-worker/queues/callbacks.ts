import { reportCallbackFailure } from '../../worker/telemetry/metrics/hooks.ts';
import { type CallbackHeader, destinationKey } from '../../worker/telemetry/langfuse/message.ts';
import type { CallbackDestination, CallbackItem, CallbackMessage, LangfuseDestination, LoggerDestination } from '../../worker/telemetry/langfuse/types.ts';
import { inflatePack } from '../../worker/telemetry/queue-packing.ts';
import { inSlices } from '../../worker/telemetry/yield.ts';
import type { AdminEnv } from '../env.ts';
import { type LangfuseCredentials, type Resolved, resolveDestinations } from './callbacks/credentials.ts';
import { chunkSegments, type EventSegment, postIngestion } from './callbacks/ingestion.ts';
import { deliverLoggers, type LoggerSegment } from './callbacks/loggers.ts';
import type { OwnerEnv } from './callbacks/logger-owners.ts';
import { resolveOwnerEnvs } from './callbacks/logger-owners-db.ts';
import { exportSpans, spanOwner } from './callbacks/otlp.ts';
import { type OwnerPools, ownerPools } from './callbacks/owner-limits.ts';
import { retryDelay } from './callbacks/retry.ts';
import { log } from '../../worker/telemetry/log.ts';

export const CALLBACK_QUEUE = 'tollgate-callbacks';

/** How long Langfuse gets to answer one ingestion request (`LANGFUSE_TIMEOUT`, seconds, overrides it). */
const DEFAULT_TIMEOUT_S = 10;

/** One message's events for one destination, and the message (its index in the batch) they came from. */
interface Segment extends EventSegment {
  destination: CallbackDestination;
  origin: number;
}

type LangfuseSegment = Segment & { destination: LangfuseDestination };

/**
 * Posts the Langfuse events of one Queue batch: every message's events are
 * grouped by the Langfuse project they go to (credentials resolved here,
 * never carried on the Queue), sent in as few ingestion requests as fit, and
 * each message is acked once all its events were taken, or retried with
 * backoff when Langfuse is down, slow, refuses the credentials or fails an
 * event with a 5xx. Events Langfuse rejects as invalid (4xx in its 207) are
 * logged, not retried: they would never be valid. A retried message is sent
 * again whole; Langfuse upserts by event body id, so events it already took
 * are not duplicated. The gateway's messages (v2, message.ts) are forwarded
 * as their bytes, unparsed; older v1 messages (`{v: 1, items}`) are read too.
 */
export async function consumeCallbacks(batch: MessageBatch<unknown>, env: AdminEnv, ctx: ExecutionContext): Promise<void> {
  // Decoded one message at a time, with a turn for requests between them (a batch can be a second of traffic).
  const segments: LangfuseSegment[] = [];
  const spans: Segment[] = [];
  const payloads: LoggerSegment[] = [];
  await inSlices(batch.messages, 1, (m, origin) => {
    for (const segment of segmentsOf(m.body)) {
      const { destination } = segment;
      if (destination.source === 'otel') spans.push({ ...segment, origin });
      else if (destination.source === 'logger') payloads.push({ bytes: segment.bytes, events: segment.events, name: destination.name, origin, ...ownerOf(destination) });
      else segments.push({ ...segment, destination, origin });
    }
  });
  const failed = new Set<number>();
  const retry = (index: number) => failed.add(index);
  // The `otel` callback's spans go to the OTLP collector, beside (and whatever becomes of) the Langfuse events.
  // Settled each on its own: one failing must not leave the other's delivered messages unacked (and sent twice).
  // The standard loggers' payloads (generic_api, datadog, ...) likewise, each logger on its own.
  // One set of owners' pools for the loggers' and the Arize spans' owners: all tenants together hold at most
  // OWNER_REQUESTS of a Worker's 6 connections (owner-limits.ts).
  const pools = ownerPools();
  const [exported, posted, logged] = await Promise.allSettled([
    spans.length ? exportOwnedSpans(spans, env, ctx, retry, pools) : undefined,
    segments.length ? postLangfuse(segments, env, ctx, retry) : undefined,
    payloads.length ? deliverOwned(payloads, env, ctx, retry, pools) : undefined,
  ]);
  for (const [result, kind, list] of [[exported, 'OpenTelemetry', spans], [posted, 'Langfuse', segments], [logged, 'Standard logger', payloads]] as const) {
    if (result.status === 'fulfilled') continue;
    log.error(`${kind} callbacks failed, retrying their messages: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`);
    for (const segment of list) retry(segment.origin);
  }

  batch.messages.forEach((message, index) => {
    if (failed.has(index)) message.retry({ delaySeconds: retryDelay(message.attempts) });
    else message.ack();
  });
}

/** A logger message's owner (a key's or team's own settings), as the dispatcher groups by it. */
const ownerOf = (d: LoggerDestination): { owner?: string } =>
  typeof d.key === 'string' && d.key ? { owner: `key:${d.key}` } : typeof d.team === 'string' && d.team ? { owner: `team:${d.team}` } : {};

/**
 * The standard loggers' payloads: those of keys and teams with settings of their own are posted with those
 * settings, read now (logger-owners.ts); when they cannot be read, only those payloads wait.
 */
async function deliverOwned(payloads: LoggerSegment[], env: AdminEnv, ctx: ExecutionContext, retry: (origin: number) => void, pools: OwnerPools): Promise<void> {
  const pairs = new Map<string, { name: string; owner: string }>();
  for (const p of payloads) if (p.owner) pairs.set(`${p.name}\n${p.owner}`, { name: p.name, owner: p.owner });
  let ownerEnvs: Map<string, OwnerEnv> | undefined;
  if (pairs.size) {
    try {
      ownerEnvs = await resolveOwnerEnvs([...pairs.values()], env, ctx);
    } catch (err) {
      log.error(`Standard logger callbacks: cannot read key or team logging settings, their payloads wait: ${err instanceof Error ? err.message : String(err)}`);
      ownerEnvs = new Map([...pairs.keys()].map((k) => [k, { error: 'key or team settings could not be read' }]));
    }
  }
  await deliverLoggers(payloads, env, (callback, error) => reportCallbackFailure(env, ctx, { callback, error }), retry, ownerEnvs, pools);
}

/** The OpenTelemetry spans; arize spans of keys and teams with settings of their own go with those, read now. */
async function exportOwnedSpans(spans: Segment[], env: AdminEnv, ctx: ExecutionContext, retry: (origin: number) => void, pools: OwnerPools): Promise<void> {
  const pairs = new Map<string, { name: string; owner: string }>();
  for (const s of spans) {
    const owner = spanOwner(s.destination);
    if (owner) pairs.set(`arize\n${owner}`, { name: 'arize', owner });
  }
  // The config's exports start now; only the owners' wait for their settings (exportSpans).
  await exportSpans(spans, env, ctx, retry, pairs.size ? ownerEnvsOf(pairs, env, ctx, 'OpenTelemetry (arize)') : undefined, pools);
}

/** The owners' environments (resolveOwnerEnvs); when their settings cannot be read, only their events wait. */
async function ownerEnvsOf(pairs: Map<string, { name: string; owner: string }>, env: AdminEnv, ctx: ExecutionContext, label: string): Promise<Map<string, OwnerEnv>> {
  try {
    return await resolveOwnerEnvs([...pairs.values()], env, ctx);
  } catch (err) {
    log.error(`${label} callbacks: cannot read key or team logging settings, their events wait: ${err instanceof Error ? err.message : String(err)}`);
    return new Map([...pairs.keys()].map((k) => [k, { error: 'key or team settings could not be read' }]));
  }
}

/** Posts Langfuse segments to their projects; `retry` marks the messages to send again. */
async function postLangfuse(segments: LangfuseSegment[], env: AdminEnv, ctx: ExecutionContext, retry: (origin: number) => void): Promise<void> {
  const destinations = new Map<string, LangfuseDestination>();
  for (const { destination } of segments) destinations.set(destinationKey(destination), destination);
  let resolved: Map<string, Resolved>;
  try {
    resolved = await resolveDestinations([...destinations.values()], env, ctx);
  } catch (err) {
    log.error(`Langfuse callbacks: cannot read key or team credentials, retrying ${segments.length} messages' events: ${err instanceof Error ? err.message : String(err)}`);
    for (const segment of segments) retry(segment.origin);
    return;
  }

  // Segments per Langfuse project.
  const groups = new Map<string, { credentials: LangfuseCredentials; segments: LangfuseSegment[] }>();
  const unresolved = new Map<string, string>();
  for (const segment of segments) {
    const key = destinationKey(segment.destination);
    const target = resolved.get(key);
    if (!target?.ok) {
      unresolved.set(key, target?.reason ?? 'unknown destination');
      retry(segment.origin);
      continue;
    }
    const { credentials } = target;
    const groupKey = `${credentials.host}\n${credentials.publicKey}\n${credentials.secretKey}`;
    let group = groups.get(groupKey);
    if (!group) groups.set(groupKey, (group = { credentials, segments: [] }));
    group.segments.push(segment);
  }
  for (const [key, reason] of unresolved) {
    log.error(`Langfuse callbacks for ${key.startsWith('key:') ? `key ${key.slice(4, 14)}...` : key}: ${reason}; will retry`);
  }

  const timeoutMs = timeoutOf(env);
  const posts: { credentials: LangfuseCredentials; chunk: LangfuseSegment[] }[] = [];
  for (const group of groups.values()) for (const chunk of chunkSegments(group.segments)) posts.push({ credentials: group.credentials, chunk });
  await Promise.all(posts.map(async ({ credentials, chunk }) => {
    const events = chunk.reduce((n, s) => n + s.events, 0);
    const result = await postIngestion(credentials, chunk, timeoutMs);
    const where = `${credentials.host} (${credentials.publicKey})`;
    if (!result.ok) {
      log.error(`Langfuse ingestion at ${where} failed for ${events} events, retrying: ${result.reason}`);
      reportCallbackFailure(env, ctx, { callback: 'langfuse', error: new Error(result.reason) });
      for (const segment of chunk) retry(segment.origin);
      return;
    }
    if (result.retry.size) {
      // Rare: the messages holding those events are found by their ids in the text, which is decoded only now.
      for (const segment of chunk) {
        const text = utf8.decode(segment.bytes);
        for (const id of result.retry) if (text.includes(`"id":${JSON.stringify(id)}`)) retry(segment.origin);
      }
      log.error(`Langfuse ingestion at ${where}: ${result.retry.size} events failed on Langfuse's side, retrying`);
    }
    for (const r of result.rejected) log.error(`Langfuse ingestion at ${where} rejected event ${r.id} (${r.status}): ${r.message}`);
  }));
}

function timeoutOf(env: AdminEnv): number {
  const seconds = Number(env.LANGFUSE_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_S) * 1000;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();
const NEWLINE = 10;

/**
 * A message's events per destination: a v2 message (message.ts) is one
 * segment, its events' bytes cut out of the text unparsed; a v1 message's
 * items (compressed or plain JSON) are serialised here. Anything else holds
 * none (logged, and acked).
 */
function segmentsOf(raw: unknown): Omit<Segment, 'origin'>[] {
  try {
    const bytes = inflatePack(raw);
    const newline = bytes ? bytes.indexOf(NEWLINE) : -1;
    if (bytes && newline > 0) {
      const header = JSON.parse(utf8.decode(bytes.subarray(0, newline))) as Partial<CallbackHeader>;
      if (header.v !== 2 || !header.destination || typeof header.destination.source !== 'string' || typeof header.events !== 'number') throw new Error('not a callback message header');
      // `[` and `]` around the events.
      if (bytes[newline + 1] !== 91 || bytes[bytes.length - 1] !== 93) throw new Error('no event array after the header');
      const events = bytes.subarray(newline + 2, bytes.length - 1);
      return events.byteLength && header.events > 0 ? [{ destination: header.destination, events: header.events, bytes: events }] : [];
    }
    const body = bytes ? JSON.parse(utf8.decode(bytes)) as unknown : raw;
    if (!body || typeof body !== 'object' || !Array.isArray((body as CallbackMessage).items)) {
      log.error('Langfuse callbacks: dropping a message that is not a callback message');
      return [];
    }
    return (body as CallbackMessage).items
      .filter((item): item is CallbackItem => !!item && item.callback === 'langfuse' && !!item.destination && typeof item.destination.source === 'string' && Array.isArray(item.events) && item.events.length > 0)
      .map((item) => ({ destination: item.destination, events: item.events.length, bytes: encoder.encode(item.events.map((e) => JSON.stringify(e)).join(',')) }));
  } catch (err) {
    log.error(`Langfuse callbacks: dropping a message that does not decode: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}
