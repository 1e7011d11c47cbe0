/**
 * The standard loggers' side of the callback consumer: a batch's payload
 * segments (worker/telemetry/standard/) grouped per logger and handed to that
 * logger's poster (loggers/), in requests within its limits, 6 at a time. A
 * destination that is down, slow, redirects or answers 401/403/404/407/408/429/5xx has its
 * messages retried (with the consumer's backoff, then the dead-letter queue);
 * a request it refuses for its payloads (400/413/422) is split down to the
 * one payload it will not take, which is logged and dropped, unless it takes
 * none at all (then its settings are at fault and the messages are retried). A message
 * has one destination, and each logger marks only its own messages for a
 * retry: one failing destination (or one whose settings throw) never makes another's delivered payloads be
 * sent twice.
 */
import { log } from '../../../worker/telemetry/log.ts';
import { datadogPoster } from './loggers/datadog.ts';
import { datadogLlmObsPoster } from './loggers/datadog-llm-obs.ts';
import { genericApiPoster } from './loggers/generic-api.ts';
import { s3Poster } from './loggers/s3.ts';
import { gcsBucketPoster } from './loggers/gcs-bucket.ts';
import { gcsPubSubPoster } from './loggers/gcs-pubsub.ts';
import { langsmithPoster } from './loggers/langsmith.ts';
import { braintrustPoster } from './loggers/braintrust.ts';
import { sqsPoster } from './loggers/sqs.ts';
import { opikPoster } from './loggers/opik.ts';
import { sentryPoster } from './loggers/sentry.ts';
import { posthogPoster } from './loggers/posthog.ts';
import { openmeterPoster } from './loggers/openmeter.ts';
import { lagoPoster } from './loggers/lago.ts';
import { lunaryPoster } from './loggers/lunary.ts';
import { heliconePoster } from './loggers/helicone.ts';
import { azureStoragePoster } from './loggers/azure-storage.ts';
import { azureSentinelPoster } from './loggers/azure-sentinel.ts';
import { clickhousePoster } from './loggers/clickhouse.ts';
import { payloadId, payloadSegments } from './loggers/payload-split.ts';
import { requestPool } from './loggers/pool.ts';
import { loggerSecrets, REASON_MAX, scrubbed } from './loggers/secrets.ts';
import { type OwnerEnv, ownerLabel } from './logger-owners.ts';
import { OWNER_REQUESTS, type OwnerPools, ownerPools, rememberingTarget, type Run } from './owner-limits.ts';
import type { LoggerEnv, LoggerPoster, LoggerTarget, PostResult } from './loggers/types.ts';
import type { EventSegment } from './segment.ts';

/** One poster per logger of worker/telemetry/standard/registry.ts, by its callback name. */
export const LOGGER_POSTERS: Readonly<Record<string, LoggerPoster>> = {
  generic_api: genericApiPoster,
  datadog: datadogPoster,
  datadog_llm_observability: datadogLlmObsPoster,
  s3: s3Poster,
  langsmith: langsmithPoster,
  gcs_bucket: gcsBucketPoster,
  gcs_pubsub: gcsPubSubPoster,
  braintrust: braintrustPoster,
  aws_sqs: sqsPoster,
  opik: opikPoster,
  sentry: sentryPoster,
  posthog: posthogPoster,
  openmeter: openmeterPoster,
  lago: lagoPoster,
  lunary: lunaryPoster,
  helicone: heliconePoster,
  azure_storage: azureStoragePoster,
  azure_sentinel: azureSentinelPoster,
  clickhouse: clickhousePoster,
};

/** `owner`: `key:<hashed token>` or `team:<id>` whose settings the payloads go with (logger-owners.ts), unset for the config's. */
export type LoggerSegment = EventSegment & { name: string; origin: number; owner?: string };

/** Bytes a segment adds to the poster's request (its own measure, else the payloads' JSON and a comma). */
const sizeOf = (segment: EventSegment, poster: LoggerPoster): number => poster.requestBytes?.(segment) ?? segment.bytes.byteLength + 1;

/**
 * Segments → requests of at most `maxPayloads` payloads and `maxBytes` bytes (as the poster counts them), in
 * order. A message too large for one request on its own is cut into its payloads first (a single payload still
 * too large goes alone).
 */
function chunked<S extends EventSegment>(segments: readonly S[], poster: LoggerPoster): S[][] {
  const chunks: S[][] = [];
  let current: S[] = [];
  let bytes = 0;
  let payloads = 0;
  const pieces = segments.flatMap((s) => (s.events > 1 && (sizeOf(s, poster) > poster.maxBytes || s.events > poster.maxPayloads) ? payloadSegments(s) : [s]));
  for (const segment of pieces) {
    const size = sizeOf(segment, poster);
    if (current.length && (bytes + size > poster.maxBytes || payloads + segment.events > poster.maxPayloads)) {
      chunks.push(current);
      current = [];
      bytes = 0;
      payloads = 0;
    }
    current.push(segment);
    bytes += size;
    payloads += segment.events;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** Counts a callback's failure (metrics and the callback_failure alert); the consumer passes its own. */
export type ReportFailure = (callback: string, error: Error) => void;

/** Requests in flight at once, over all loggers: a Worker opens 6 connections at a time (pool.ts). */
export const CONCURRENT_REQUESTS = 6;

/** Of those, what keys' and teams' own destinations share (with their Arize spans), and what one owner may hold. */
export { OWNER_REQUESTS, PER_OWNER_REQUESTS } from './owner-limits.ts';

/**
 * Requests one logger may spend in a batch on halving refused requests. A destination that refuses everything
 * (a wrong key answered 400, a body it does not parse) would otherwise cost about two requests a payload.
 */
export const MAX_SPLIT_REQUESTS = 64;

const count = (chunk: readonly EventSegment[]) => chunk.reduce((n, s) => n + s.events, 0);

/** A thrown error's class only: its message may quote a setting (a header value, a URL with a secret in it). */
const thrown = (err: unknown): string => (err instanceof Error ? err.name : typeof err);

/**
 * Posts the standard loggers' segments of a batch; `retry` marks the messages to send again. A request the
 * destination refuses for its payloads (400/413/422) is halved, down to one message, then to that message's
 * payloads, until the one payload it refuses is found: only that one is dropped (logged with its call id).
 * Anything else not taken (down, slow, a redirect, wrong credentials, a setting that throws) retries the whole
 * request's messages, and so does a refusal of every payload the logger was sent.
 */
export async function deliverLoggers(
  segments: readonly LoggerSegment[], env: LoggerEnv, report: ReportFailure, retry: (origin: number) => void, ownerEnvs?: ReadonlyMap<string, OwnerEnv>,
  pools: OwnerPools = ownerPools(),
): Promise<void> {
  // Per logger and owner: a key's or team's own destination is a target of its own, delivered on its own.
  const byLogger = new Map<string, LoggerSegment[]>();
  for (const segment of segments) {
    const group = segment.owner ? `${segment.name}\n${segment.owner}` : segment.name;
    const list = byLogger.get(group);
    if (list) list.push(segment);
    else byLogger.set(group, [segment]);
  }
  const run = requestPool(CONCURRENT_REQUESTS - OWNER_REQUESTS);
  // Owners' requests go through the batch's owners' pools (shared with the Arize spans' exports): an owner's place
  // first, then a shared one; those not started within the owners' budget are retried (owner-limits.ts).
  const runFor = (owner: string): Run => pools.runFor(owner);
  // Every reason is scrubbed of the loggers' secrets before a log line or an alert quotes it (a destination may
  // echo a key); the secrets are read on the batch's first failure only.
  let secrets: string[] | undefined;
  const say: Say = (reason, cut) => scrubbed(reason, (secrets ??= loggerSecrets(env)), REASON_MAX, cut);
  await Promise.all([...byLogger].map(async ([group, list]) => {
    const name = list[0]!.name;
    const owner = list[0]!.owner;
    const poster = LOGGER_POSTERS[name];
    if (!poster) {
      // A gateway newer than this admin Worker: kept on the Queue (and at worst in the dead-letter queue), not lost.
      log.error(`${name} callback: ${count(list)} payloads kept for a retry: no such logger in this admin Worker`);
      for (const segment of list) retry(segment.origin);
      return;
    }
    // An owner's settings: their own environment (its secrets scrubbed from reasons too), or why they make none.
    const ownEnv = owner ? ownerEnvs?.get(group) ?? { error: 'its settings were not read' } : env;
    if ('error' in ownEnv && typeof ownEnv.error === 'string') {
      // A key deleted, or settings no longer naming the logger: no retry mends that, so one line and one
      // failure count, not a retry (and an alert) each time until the dead-letter queue.
      const drop = 'drop' in ownEnv && ownEnv.drop === true;
      log.error(`${name} callback for ${ownerLabel(owner!)}: ${count(list)} payloads ${drop ? 'dropped' : 'kept for a retry'}: ${ownEnv.error}`);
      report(name, new Error(ownEnv.error));
      if (!drop) for (const segment of list) retry(segment.origin);
      return;
    }
    const targetEnv = ownEnv as LoggerEnv;
    const ownSay: Say = owner ? (reason, cut) => scrubbed(reason, loggerSecrets(targetEnv), REASON_MAX, cut) : say;
    let target: ReturnType<LoggerPoster['target']>;
    try {
      target = poster.target(targetEnv);
    } catch (err) {
      // A setting nothing checked before (a bucket name no URL takes): the operator mends it, the payloads wait.
      const reason = `its settings do not make a destination (${thrown(err)})`;
      log.error(`${name} callback: ${count(list)} payloads kept for a retry: ${reason}`);
      report(name, new Error(reason));
      for (const segment of list) retry(segment.origin);
      return;
    }
    if ('error' in target) {
      const reason = ownSay(target.error);
      log.error(`${name} callback${owner ? ` for ${ownerLabel(owner)}` : ''}: ${count(list)} payloads ${target.retry ? 'kept for a retry' : 'dropped'}: ${reason}`);
      report(name, new Error(reason));
      if (target.retry) for (const segment of list) retry(segment.origin);
      return;
    }
    // An owner's destination that gave no answer is skipped for a while (owner-limits.ts).
    const sent = owner ? rememberingTarget(name, target) : target;
    await deliverTo(name, owner ? { ...sent, where: `${target.where} (${ownerLabel(owner)})` } : sent, chunked(list, poster), owner ? runFor(owner) : run, report, retry, ownSay);
  }));
}

/** A poster's reason as a log line or an alert may quote it: scrubbed of the loggers' secrets (its tail too when `cut`), then cut. */
type Say = (reason: string, cut?: boolean) => string;

/** One logger's requests: sent through the pool, refused ones halved within the budget, then the verdict on refusals. */
async function deliverTo(
  name: string, target: LoggerTarget, chunks: readonly LoggerSegment[][], run: Run,
  report: ReportFailure, retry: (origin: number) => void, say: Say,
): Promise<void> {
  let accepted = 0;
  let splits = 0;
  const refused: { chunk: readonly LoggerSegment[]; reason: string; cut?: boolean }[] = [];
  const retried = (chunk: readonly LoggerSegment[], raw: string, cut?: boolean) => {
    const reason = say(raw, cut);
    report(name, new Error(reason));
    log.error(`${name} callback: posting ${count(chunk)} payloads to ${target.where} failed, retrying: ${reason}`);
    for (const segment of chunk) retry(segment.origin);
  };
  const send = async (chunk: readonly LoggerSegment[]): Promise<void> => {
    let result: PostResult;
    try {
      result = await run(() => target.post(chunk));
    } catch (err) {
      result = { ok: false, retry: true, reason: `the request could not be made (${thrown(err)})` };
    }
    if (result.ok) {
      accepted += count(chunk);
      if (result.dropped) report(name, new Error(say(result.dropped)));
      return;
    }
    if (result.retry) return retried(chunk, result.reason, result.cut);
    // Payloads the destination will not take must not cost the others in the request theirs.
    const parts = chunk.length > 1 ? chunk : (chunk[0] && chunk[0].events > 1 ? payloadSegments(chunk[0]) : []);
    if (parts.length <= 1) {
      refused.push({ chunk, reason: result.reason, cut: result.cut });
      return;
    }
    if (splits + 2 > MAX_SPLIT_REQUESTS) return retried(chunk, `this batch's ${MAX_SPLIT_REQUESTS} requests for finding the payload refused are spent: ${result.reason}`, result.cut);
    splits += 2;
    const half = Math.ceil(parts.length / 2);
    await Promise.all([send(parts.slice(0, half)), send(parts.slice(half))]);
  };
  await Promise.all(chunks.map(send));
  if (accepted === 0 && refused.length > 1) {
    // Not one payload taken, each refused on its own: the destination's settings or format are at fault, not the payloads.
    const reason = say(refused[0]?.reason ?? '', refused[0]?.cut);
    report(name, new Error(reason));
    log.error(`${name} callback: ${target.where} refused each of ${refused.length} payloads on its own, none taken: its settings are at fault, retrying: ${reason}`);
    for (const { chunk } of refused) for (const segment of chunk) retry(segment.origin);
    return;
  }
  for (const { chunk, reason: raw, cut } of refused) {
    const reason = say(raw, cut);
    report(name, new Error(reason));
    const which = chunk.length === 1 && chunk[0]?.events === 1 ? `the payload of call ${payloadId(chunk[0])}` : `${count(chunk)} payloads`;
    log.error(`${name} callback: ${target.where} refused ${which}, dropped: ${reason}`);
  }
}
