import { DurableObject } from 'cloudflare:workers';
import type { GatewayEnv } from '../../env.ts';
import { limiterName } from '../../limits/client.ts';
import type { EntityLimiter, EntityView } from '../../limits/entity-limiter.ts';
import { ALERT_WINDOW_MS, budgetCrossings, type GateState, passGate } from '../alerts/gate.ts';
import { budgetText, candidateText } from '../alerts/messages.ts';
import { alertEnabled, alertSettings } from '../alerts/settings.ts';
import { backoffMs, postToSlack, SLACK_MAX_ATTEMPTS } from '../alerts/slack.ts';
import { type AlertCandidate, type BudgetCheck, budgetEntityKey } from '../alerts/types.ts';
import { bounded } from './labels.ts';
import {
  type Delta, LATENCY_BUCKETS, labelValuesOf, M, MAX_SERIES_PER_SHARD, type MetricDef, METRIC_SHARDS, METRICS_BY_NAME,
  METRICS_PERSIST_EVERY_MS, type Series, seriesKey,
} from './registry.ts';

/** What an isolate sends one shard per flush. */
export interface ShardBatch {
  deltas: Delta[];
  budgets: BudgetCheck[];
  alerts: AlertCandidate[];
}

export interface ShardSnapshot {
  series: Series[];
}

/** litellm_deployment_state looks at this much recent traffic, in slots of HEALTH_SLOT_MS. */
export const HEALTH_WINDOW_MS = 60_000;
const HEALTH_SLOT_MS = 10_000;
/** An entity's budget is read from its limiter at most this often per shard (a burst is coalesced into one more read after it). */
const BUDGET_SPACING_MS = 250;
/** A team (or user, org) without a budget is asked again after this, in case one was set. */
const NO_BUDGET_RECHECK_MS = 60_000;
const LIMITER_TIMEOUT_MS = 5_000;
const MAX_TRACKED_ENTITIES = 50_000;
const MAX_ALERT_KEYS = 10_000;
/** Undelivered Slack messages kept at most; beyond, new alerts are dropped (logged). */
const MAX_OUTBOX = 1_000;

interface BudgetTrack {
  check: BudgetCheck;
  running: boolean;
  again: boolean;
  lastAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The budget last read (undefined before the first read). */
  maxBudget: number | null | undefined;
}

type Row = Record<string, SqlStorageValue>;

/**
 * One shard of the metrics aggregate. Isolates send it the deltas of the
 * series it owns (a hash of name and labels picks the shard) at most once a
 * second each; it adds them up in memory and writes the changed series to
 * its SQLite storage at most every METRICS_PERSIST_EVERY_MS, so counters
 * survive a restart (losing at most that much). `GET /metrics` reads every
 * shard's snapshot and renders them together.
 *
 * It also owns the alerting of the entities and dedupe keys that hash to it:
 * budget checks (the entity's limiter is asked for its spend, which feeds
 * the budget gauges and the 80% / 100% alerts, once each per budget
 * window), and slow-request, cooldown and callback alerts (one per key per
 * window). Messages go to an outbox in storage, delivered by the alarm with
 * retries: never from a request's path.
 */
export class MetricsAggregator extends DurableObject<GatewayEnv> {
  #series = new Map<string, Series>();
  #perMetric = new Map<string, number>();
  #dirty = new Set<string>();
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #health = new Map<string, Map<number, [number, number]>>();
  #budgets = new Map<string, BudgetTrack>();
  #alertState = new Map<string, unknown>();

  constructor(ctx: DurableObjectState, env: GatewayEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => this.#load());
  }

  #load(): void {
    const sql = this.ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS series (key TEXT PRIMARY KEY, data TEXT NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS alert_state (key TEXT PRIMARY KEY, data TEXT NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL, attempts INTEGER NOT NULL, due INTEGER NOT NULL)');
    for (const row of sql.exec<{ key: string; data: string }>('SELECT key, data FROM series')) {
      try {
        const s = JSON.parse(row.data) as Series;
        if (!METRICS_BY_NAME.has(s.m)) continue;
        s.v = Number(s.v); // ±Infinity is stored as a string (JSON has no infinity)
        this.#series.set(row.key, s);
        this.#perMetric.set(s.m, (this.#perMetric.get(s.m) ?? 0) + 1);
      } catch {
        // a row this version cannot read is dropped with the next write
      }
    }
    for (const row of sql.exec<{ key: string; data: string }>('SELECT key, data FROM alert_state')) {
      try {
        this.#alertState.set(row.key, JSON.parse(row.data));
      } catch {
        // ignore
      }
    }
  }

  /** An isolate's deltas, budget checks and alert candidates for this shard. */
  async ingest(batch: ShardBatch): Promise<void> {
    for (const d of batch.deltas ?? []) this.#apply(d);
    this.#schedulePersist();
    const settings = alertSettings(this.env);
    for (const a of batch.alerts ?? []) this.#candidate(a, settings.thresholdS);
    const reads: Promise<void>[] = [];
    for (const c of batch.budgets ?? []) {
      const read = this.#queueBudget(c);
      if (read) reads.push(read);
    }
    await Promise.all(reads);
  }

  /** Every series of this shard, deployment states brought up to date. */
  async snapshot(): Promise<ShardSnapshot> {
    const now = Date.now();
    const series: Series[] = [];
    for (const [key, s] of this.#series) {
      if (METRICS_BY_NAME.get(s.m)?.kind === 'state') s.v = this.#state(key, s, now);
      series.push(s);
    }
    return { series };
  }

  // --- metrics -------------------------------------------------------------

  #apply(d: Delta): void {
    const def = METRICS_BY_NAME.get(d?.m);
    if (!def || !Array.isArray(d.l) || d.l.length !== def.labels.length || !d.l.every((v) => typeof v === 'string')) return;
    const expected = { counter: 'c', gauge: 'g', histogram: 'h', state: 's' }[def.kind];
    if (d.k !== expected) return;
    const key = seriesKey(d.m, d.l);
    const s = this.#slot(def, key, d.l);
    if (!s) return;
    const now = Date.now();
    switch (d.k) {
      case 'c':
        if (Number.isFinite(d.v) && d.v >= 0) s.v += d.v;
        break;
      case 'g':
        if (Number.isFinite(d.v) && (s.at === undefined || d.at >= s.at)) {
          s.v = d.v;
          s.at = d.at;
        }
        break;
      case 'h':
        if (!Array.isArray(d.b) || d.b.length !== LATENCY_BUCKETS.length) return;
        s.b ??= new Array<number>(LATENCY_BUCKETS.length).fill(0);
        for (let i = 0; i < d.b.length; i++) s.b[i] = (s.b[i] ?? 0) + (Number(d.b[i]) || 0);
        s.s = (s.s ?? 0) + (Number(d.s) || 0);
        s.n = (s.n ?? 0) + (Number(d.n) || 0);
        break;
      case 's': {
        const window = this.#health.get(key) ?? new Map<number, [number, number]>();
        this.#health.set(key, window);
        const slot = Math.floor(Math.min(Number(d.at) || now, now) / HEALTH_SLOT_MS);
        const counts = window.get(slot) ?? [0, 0];
        counts[0] += Number(d.ok) || 0;
        counts[1] += Number(d.fail) || 0;
        window.set(slot, counts);
        if (d.cu !== undefined && Number.isFinite(d.cu)) s.cu = Math.max(s.cu ?? 0, d.cu);
        s.v = this.#state(key, s, now);
        break;
      }
    }
    this.#dirty.add(key);
  }

  /** The series, created if its metric is under its cap here; else the update is counted as dropped. */
  #slot(def: MetricDef, key: string, l: string[]): Series | undefined {
    const existing = this.#series.get(key);
    if (existing) return existing;
    const count = this.#perMetric.get(def.name) ?? 0;
    if (count >= this.#cap() && def !== M.droppedSeries) {
      this.#countDropped(def.name);
      return undefined;
    }
    const s: Series = def.kind === 'histogram' ? { m: def.name, l, v: 0, b: new Array<number>(LATENCY_BUCKETS.length).fill(0), s: 0, n: 0 } : { m: def.name, l, v: 0 };
    this.#series.set(key, s);
    this.#perMetric.set(def.name, count + 1);
    return s;
  }

  #capPerShard: number | undefined;

  /** MAX_SERIES_PER_METRIC split over the shards; TOLLGATE_METRICS_MAX_SERIES (a var) overrides the total. */
  #cap(): number {
    if (this.#capPerShard === undefined) {
      const total = Number(this.env.TOLLGATE_METRICS_MAX_SERIES);
      this.#capPerShard = Number.isInteger(total) && total > 0 ? Math.ceil(total / METRIC_SHARDS) : MAX_SERIES_PER_SHARD;
    }
    return this.#capPerShard;
  }

  #countDropped(metric: string): void {
    const l = [metric];
    const key = seriesKey(M.droppedSeries.name, l);
    const s = this.#slot(M.droppedSeries, key, l);
    if (!s) return;
    s.v += 1;
    this.#dirty.add(key);
  }

  #setGauge(def: MetricDef, values: Record<string, string>, v: number): void {
    const l = labelValuesOf(def, values);
    const key = seriesKey(def.name, l);
    const s = this.#slot(def, key, l);
    if (!s) return;
    s.v = v;
    s.at = Date.now();
    this.#dirty.add(key);
    this.#schedulePersist();
  }

  /** 0 healthy, 1 partial outage (some recent failures), 2 outage (only failures lately, or cooling down). */
  #state(key: string, s: Series, now: number): number {
    const window = this.#health.get(key);
    let ok = 0;
    let fail = 0;
    if (window) {
      const oldest = Math.floor((now - HEALTH_WINDOW_MS) / HEALTH_SLOT_MS);
      for (const [slot, counts] of window) {
        if (slot < oldest) window.delete(slot);
        else {
          ok += counts[0];
          fail += counts[1];
        }
      }
      if (window.size === 0) this.#health.delete(key);
    }
    if ((s.cu ?? 0) > now) return 2;
    if (fail > 0) return ok === 0 ? 2 : 1;
    return 0;
  }

  #schedulePersist(): void {
    if (this.#persistTimer || this.#dirty.size === 0) return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = undefined;
      this.#persist();
    }, METRICS_PERSIST_EVERY_MS);
  }

  #persist(): void {
    const keys = [...this.#dirty];
    this.#dirty.clear();
    try {
      this.ctx.storage.transactionSync(() => {
        for (const key of keys) {
          const s = this.#series.get(key);
          if (s) this.ctx.storage.sql.exec('INSERT OR REPLACE INTO series (key, data) VALUES (?, ?)', key, JSON.stringify(s, finite));
        }
      });
    } catch (err) {
      for (const key of keys) this.#dirty.add(key);
      console.error('metrics shard: persisting series failed, retrying:', err instanceof Error ? err.message : String(err));
      this.#schedulePersist();
    }
  }

  // --- budgets -------------------------------------------------------------

  /** Reads the entity's budget now (returned), or once after the read in flight or the spacing; null when nothing to do. */
  #queueBudget(check: BudgetCheck): Promise<void> | undefined {
    if (!check || typeof check.id !== 'string' || !['key', 'team', 'org', 'user', 'global'].includes(check.kind)) return undefined;
    if (check.kind === 'key' && check.maxBudget === null) {
      // A key without a budget: nothing to read or alert on; LiteLLM reports its remaining budget as +Inf.
      this.#keyGauges(check.id, check.alias ?? null, null, 0);
      return undefined;
    }
    const key = budgetEntityKey(check.kind, check.id);
    let track = this.#budgets.get(key);
    if (!track) {
      if (this.#budgets.size >= MAX_TRACKED_ENTITIES) {
        const oldest = this.#budgets.keys().next().value as string;
        this.#budgets.delete(oldest);
      }
      track = { check, running: false, again: false, lastAt: 0, timer: undefined, maxBudget: undefined };
      this.#budgets.set(key, track);
    }
    track.check = check;
    const now = Date.now();
    if (check.kind !== 'key' && track.maxBudget === null && now - track.lastAt < NO_BUDGET_RECHECK_MS) return undefined;
    if (track.running || track.timer) {
      track.again = true;
      return undefined;
    }
    const wait = track.lastAt + BUDGET_SPACING_MS - now;
    if (wait > 0) {
      const t = track;
      t.timer = setTimeout(() => {
        t.timer = undefined;
        void this.#readBudget(t);
      }, wait);
      return undefined;
    }
    return this.#readBudget(track);
  }

  async #readBudget(track: BudgetTrack): Promise<void> {
    track.running = true;
    track.again = false;
    const { kind, id } = track.check;
    try {
      const view = await this.#describe(kind, id);
      if (view?.exists) {
        track.maxBudget = view.maxBudget;
        this.#applyBudget(track.check, view);
      }
    } catch (err) {
      console.error(`metrics shard: reading the budget of ${kind} ${kind === 'key' ? id.slice(0, 12) : id} failed:`, err instanceof Error ? err.message : String(err));
    } finally {
      track.running = false;
      track.lastAt = Date.now();
      if (track.again) void this.#queueBudget(track.check);
    }
  }

  async #describe(kind: BudgetCheck['kind'], id: string): Promise<EntityView | undefined> {
    const ns = this.env.LIMITER;
    if (!ns) return undefined;
    const stub = ns.get(ns.idFromName(limiterName(kind, id))) as unknown as Pick<EntityLimiter, 'describe'>;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const answer = await Promise.race([
        stub.describe(kind, id),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('limiter timeout')), LIMITER_TIMEOUT_MS))),
      ]);
      return answer.ok === true ? answer.view : undefined;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** A budget that was removed takes its max-budget gauge with it. */
  #dropGauge(def: MetricDef, values: Record<string, string>): void {
    const key = seriesKey(def.name, labelValuesOf(def, values));
    if (!this.#series.delete(key)) return;
    this.#perMetric.set(def.name, Math.max(0, (this.#perMetric.get(def.name) ?? 1) - 1));
    this.#dirty.delete(key);
    this.ctx.storage.sql.exec('DELETE FROM series WHERE key = ?', key);
  }

  #keyGauges(hash: string, alias: string | null, maxBudget: number | null, spend: number): void {
    const labels = { hashed_api_key: hash, api_key_alias: bounded(alias) };
    this.#setGauge(M.remainingKeyBudget, labels, maxBudget === null ? Infinity : maxBudget - spend);
    if (maxBudget !== null) this.#setGauge(M.keyMaxBudget, labels, maxBudget);
    else this.#dropGauge(M.keyMaxBudget, labels);
  }

  #applyBudget(check: BudgetCheck, view: EntityView): void {
    const { spend, maxBudget } = view;
    if (check.kind === 'key') this.#keyGauges(check.id, view.alias, maxBudget, spend);
    if (check.kind === 'team') {
      const labels = { team: bounded(check.id), team_alias: bounded(view.alias) };
      this.#setGauge(M.remainingTeamBudget, labels, maxBudget === null ? Infinity : maxBudget - spend);
      if (maxBudget !== null) this.#setGauge(M.teamMaxBudget, labels, maxBudget);
      else this.#dropGauge(M.teamMaxBudget, labels);
    }
    if (maxBudget === null) return;
    const settings = alertSettings(this.env);
    if (!alertEnabled(settings, 'budget_alerts')) return;
    const key = budgetEntityKey(check.kind, check.id);
    const crossed = (this.#alertState.get(key) as number[] | undefined) ?? [];
    const { announce, next } = budgetCrossings(crossed, spend, maxBudget);
    if (next.length !== crossed.length || next.some((t, i) => t !== crossed[i])) this.#saveAlertState(key, next);
    for (const threshold of announce) this.#enqueue(budgetText(check.kind, check.id, view.alias, spend, maxBudget, threshold));
  }

  // --- alerts --------------------------------------------------------------

  #candidate(a: AlertCandidate, thresholdS: number): void {
    if (!a || typeof a.dedupe !== 'string' || !(a.type in ALERT_WINDOW_MS)) return;
    const settings = alertSettings(this.env);
    if (!alertEnabled(settings, a.type)) return;
    const key = `alert:${a.dedupe}`;
    const gate = passGate(this.#alertState.get(key) as GateState | undefined, Date.now(), ALERT_WINDOW_MS[a.type]);
    if (!gate.send) {
      this.#alertState.set(key, gate.next);
      return;
    }
    this.#saveAlertState(key, gate.next);
    this.#enqueue(candidateText(a, thresholdS, gate.suppressed));
  }

  #saveAlertState(key: string, state: unknown): void {
    if (!this.#alertState.has(key) && this.#alertState.size >= MAX_ALERT_KEYS) {
      const oldest = this.#alertState.keys().next().value as string;
      this.#alertState.delete(oldest);
      this.ctx.storage.sql.exec('DELETE FROM alert_state WHERE key = ?', oldest);
    }
    this.#alertState.set(key, state);
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO alert_state (key, data) VALUES (?, ?)', key, JSON.stringify(state));
  }

  #enqueue(text: string): void {
    const sql = this.ctx.storage.sql;
    const queued = Number(sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n);
    if (queued >= MAX_OUTBOX) {
      console.error(`alerts: outbox full (${queued} undelivered), alert dropped: ${text.split('\n')[0]}`);
      return;
    }
    const now = Date.now();
    sql.exec('INSERT INTO outbox (text, attempts, due) VALUES (?, 0, ?)', text, now);
    void this.ctx.storage.setAlarm(now);
  }

  /** Delivers the due messages of the outbox, in order; failures are retried with backoff, then dropped (logged). */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const { webhookUrl } = alertSettings(this.env);
    const rows = sql.exec<Row>('SELECT id, text, attempts, due FROM outbox ORDER BY id').toArray();
    for (const row of rows) {
      const id = Number(row.id);
      const attempts = Number(row.attempts);
      const now = Date.now();
      if (Number(row.due) > now) continue;
      if (!webhookUrl) {
        sql.exec('DELETE FROM outbox WHERE id = ?', id);
        continue;
      }
      const result = await postToSlack(webhookUrl, String(row.text));
      if (result.ok) {
        sql.exec('DELETE FROM outbox WHERE id = ?', id);
      } else if (result.permanent || attempts + 1 >= SLACK_MAX_ATTEMPTS) {
        console.error(`alerts: Slack refused an alert after ${attempts + 1} attempt(s) (${result.detail}); dropped: ${String(row.text).split('\n')[0]}`);
        sql.exec('DELETE FROM outbox WHERE id = ?', id);
      } else {
        sql.exec('UPDATE outbox SET attempts = ?, due = ? WHERE id = ?', attempts + 1, Date.now() + (result.retryAfterMs ?? backoffMs(attempts + 1)), id);
      }
    }
    const next = sql.exec<{ due: number | null }>('SELECT MIN(due) AS due FROM outbox').one().due;
    if (next !== null && next !== undefined) await this.ctx.storage.setAlarm(Math.max(Number(next), Date.now() + 10));
  }
}

/** JSON replacer: a remaining budget of +Inf (no budget) survives the round trip as "Infinity". */
function finite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
