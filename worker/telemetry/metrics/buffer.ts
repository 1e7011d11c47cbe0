import { type AlertCandidate, type BudgetCheck, budgetEntityKey } from '../alerts/types.ts';
import { emptyReport, noteEvent, type PagerDutyEventDetail, type PagerDutyReport } from '../alerts/pagerduty.ts';
import type { MetricsAggregator, ShardBatch } from './aggregator.ts';
import {
  bucketIndex, type Delta, labelValuesOf, LATENCY_BUCKETS, M, MAX_PENDING_SERIES, type MetricDef, METRIC_SHARDS,
  METRICS_FIRST_FLUSH_MS, METRICS_FLUSH_EVERY_MS, seriesKey, shardName, shardOf,
} from './registry.ts';
import { log } from '../log.ts';

/** The bindings metrics need: the aggregating objects (worker/telemetry/metrics/aggregator.ts). */
export interface MetricsEnv {
  METRICS?: DurableObjectNamespace;
}

export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Per-isolate buffer of metric deltas, budget checks and alert candidates.
 * Every update is a map lookup and an addition: nothing is sent per request.
 * The buffer is shipped to the aggregating objects METRICS_FIRST_FLUSH_MS
 * after the first update of a quiet isolate, and at most every
 * METRICS_FLUSH_EVERY_MS under traffic, one call per shard with something
 * to say. So a request shows in `/metrics` within about a second of its
 * end (the documented bound is 2 s).
 */
let pending = new Map<string, Delta>();
let budgets = new Map<string, BudgetCheck>();
let alerts = new Map<string, AlertCandidate>();
let pagerduty: PagerDutyReport | undefined;
let droppedLocally = 0;
let flushScheduled = false;
let lastFlushAt = 0;
let warnedUnbound = false;

/**
 * Label values known by a signature: what they are made of (the caller, the
 * deployment, the route) as one string. The per-call fast path: the series
 * key of each metric under a signature is worked out once per isolate and
 * remembered, so a call costs a map lookup per metric, not a label list and
 * a string join each; `values` is only called when a key is first needed.
 */
export class SignedLabels {
  readonly sig: string;
  readonly values: () => Record<string, string>;
  constructor(sig: string, values: () => Record<string, string>) {
    this.sig = sig;
    this.values = values;
  }
}

/** Label values by name, or known by their signature. */
export type Labels = Record<string, string> | SignedLabels;

const bySignature = new Map<string, Map<string, string>>();
const MAX_SIGNATURES = 10_000;

function slot<T extends Delta>(def: MetricDef, labels: Labels, make: (l: string[]) => T, extra: readonly string[] | undefined): T | undefined {
  let l: string[] | undefined;
  let key: string | undefined;
  // A call's custom label values are a client's to write: their keys are not remembered (that memory would grow with them).
  if (labels instanceof SignedLabels && !extra) {
    let keys = bySignature.get(labels.sig);
    if (!keys) {
      if (bySignature.size >= MAX_SIGNATURES) bySignature.clear();
      bySignature.set(labels.sig, (keys = new Map()));
    }
    key = keys.get(def.name);
    if (key === undefined) {
      l = withExtra(labelValuesOf(def, labels.values()), extra);
      key = seriesKey(def.name, l);
      keys.set(def.name, key);
    }
  } else {
    l = withExtra(labelValuesOf(def, labels instanceof SignedLabels ? labels.values() : labels), extra);
    key = seriesKey(def.name, l);
  }
  const existing = pending.get(key);
  if (existing) return existing as T;
  if (pending.size >= MAX_PENDING_SERIES) {
    droppedLocally++;
    return undefined;
  }
  const created = make(l ?? withExtra(labelValuesOf(def, (labels as SignedLabels).values()), extra));
  pending.set(key, created);
  return created;
}

/** Custom labels (custom-labels.ts) follow the metric's own values as name/value pairs. */
function withExtra(l: string[], extra: readonly string[] | undefined): string[] {
  return extra ? l.concat(extra) : l;
}

function histogramAdd(d: Extract<Delta, { k: 'h' }>, seconds: number): void {
  const i = bucketIndex(seconds);
  d.b[i] = (d.b[i] ?? 0) + 1;
  d.s += seconds;
  d.n += 1;
}

/**
 * Adds `by` to a counter. `extra`: the call's custom labels as name/value pairs (custom-labels.ts);
 * with SignedLabels, their values must be part of the signature.
 */
export function inc(def: MetricDef, labels: Labels, by = 1, extra?: readonly string[]): void {
  if (!(by >= 0) || !Number.isFinite(by)) return;
  const d = slot(def, labels, (l): Extract<Delta, { k: 'c' }> => ({ k: 'c', m: def.name, l, v: 0 }), extra);
  if (d) d.v += by;
}

/** Records one observation, in seconds (`extra` as for inc). */
export function observe(def: MetricDef, labels: Labels, seconds: number, extra?: readonly string[]): void {
  if (!Number.isFinite(seconds) || seconds < 0) return;
  const d = slot(def, labels, (l): Extract<Delta, { k: 'h' }> => ({ k: 'h', m: def.name, l, b: new Array<number>(LATENCY_BUCKETS.length).fill(0), s: 0, n: 0 }), extra);
  if (d) histogramAdd(d, seconds);
}

/** A success or failure of a deployment, or its cooldown (`cooldownUntil`, ms), for litellm_deployment_state. */
export function health(def: MetricDef, labels: Labels, change: { ok?: number; fail?: number; cooldownUntil?: number }): void {
  const d = slot(def, labels, (l): Extract<Delta, { k: 's' }> => ({ k: 's', m: def.name, l, ok: 0, fail: 0, at: Date.now() }), undefined);
  if (!d) return;
  d.ok += change.ok ?? 0;
  d.fail += change.fail ?? 0;
  d.at = Date.now();
  if (change.cooldownUntil !== undefined) d.cu = Math.max(d.cu ?? 0, change.cooldownUntil);
}

export function checkBudget(check: BudgetCheck): void {
  const key = budgetEntityKey(check.kind, check.id);
  if (budgets.size >= MAX_PENDING_SERIES && !budgets.has(key)) return;
  budgets.set(key, check);
}

/** One candidate per dedupe key per flush is enough: the aggregator dedupes across isolates. */
export function raiseAlert(candidate: AlertCandidate): void {
  if (alerts.size >= 1_000) return;
  if (!alerts.has(candidate.dedupe)) alerts.set(candidate.dedupe, candidate);
}

/** A failed or hanging call for PagerDuty: counted across isolates by one shard (PAGERDUTY_SHARD). */
export function notePagerDuty(detail: PagerDutyEventDetail, at: number): void {
  noteEvent((pagerduty ??= emptyReport()), detail, at);
}

/** The shard that counts PagerDuty's events, so its thresholds hold proxy-wide. */
export const PAGERDUTY_SHARD = 0;

/** Ships what is buffered, soon (see above). The request that opens a window keeps it alive through `waitUntil`. */
export function scheduleFlush(env: MetricsEnv, ctx: WaitUntil): void {
  if (flushScheduled) return;
  flushScheduled = true;
  const now = Date.now();
  const delay = Math.max(METRICS_FIRST_FLUSH_MS, lastFlushAt + METRICS_FLUSH_EVERY_MS - now);
  ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, delay)).then(() => flushMetrics(env)));
}

function stub(ns: DurableObjectNamespace, shard: number): Pick<MetricsAggregator, 'ingest' | 'snapshot'> {
  return ns.get(ns.idFromName(shardName(shard))) as unknown as Pick<MetricsAggregator, 'ingest' | 'snapshot'>;
}

export function aggregatorStub(env: MetricsEnv, shard: number): Pick<MetricsAggregator, 'ingest' | 'snapshot'> | undefined {
  return env.METRICS ? stub(env.METRICS, shard) : undefined;
}

/** How long a shard that failed an ingest gets before its batch is sent once more. */
const RETRY_AFTER_MS = 1_000;

/**
 * Sends every buffered delta to the shard that owns its series, in
 * parallel. A shard that fails gets the same batch once more a second
 * later; a second failure drops it, logged. Never throws.
 */
export async function flushMetrics(env: MetricsEnv): Promise<void> {
  flushScheduled = false;
  lastFlushAt = Date.now();
  const deltas = pending;
  const checks = budgets;
  const candidates = alerts;
  const paging = pagerduty;
  const dropped = droppedLocally;
  pending = new Map();
  budgets = new Map();
  alerts = new Map();
  pagerduty = undefined;
  droppedLocally = 0;
  if (dropped > 0) {
    const l = [M.droppedSeries.name];
    deltas.set(seriesKey(M.droppedSeries.name, l), { k: 'c', m: M.droppedSeries.name, l, v: dropped });
  }
  if (deltas.size === 0 && checks.size === 0 && candidates.size === 0 && !paging) return;
  const ns = env.METRICS;
  if (!ns) {
    if (!warnedUnbound) log.warn('no METRICS Durable Object binding: metrics and alerts are not aggregated');
    warnedUnbound = true;
    return;
  }
  const batches: ShardBatch[] = Array.from({ length: METRIC_SHARDS }, () => ({ deltas: [], budgets: [], alerts: [] }));
  for (const [key, d] of deltas) batches[shardOf(key)]?.deltas.push(d);
  for (const [key, c] of checks) batches[shardOf(key)]?.budgets.push(c);
  for (const [key, a] of candidates) batches[shardOf(key)]?.alerts.push(a);
  if (paging && batches[PAGERDUTY_SHARD]) batches[PAGERDUTY_SHARD].pagerduty = paging;
  await Promise.all(batches.map(async (batch, shard) => {
    if (!batch.deltas.length && !batch.budgets.length && !batch.alerts.length && !batch.pagerduty) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await stub(ns, shard).ingest(batch);
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (attempt >= 2) {
          log.error(`metrics shard ${shard}: ingest failed twice, ${batch.deltas.length} series updates dropped:`, message);
          return;
        }
        log.warn(`metrics shard ${shard}: ingest failed, retrying in ${RETRY_AFTER_MS} ms:`, message);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
      }
    }
  }));
}
