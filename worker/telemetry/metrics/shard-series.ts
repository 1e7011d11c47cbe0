import type { GatewayEnv } from '../../env.ts';
import {
  type Delta, LATENCY_BUCKETS, labelValuesOf, M, MAX_SERIES_PER_SHARD, type MetricDef, METRIC_SHARDS, METRICS_BY_NAME,
  METRICS_PERSIST_EVERY_MS, NONE, type Series, seriesKey,
} from './registry.ts';
import { CUSTOM_LABELLED, isCustomLabelName, MAX_CUSTOM_LABEL_CHARS, MAX_CUSTOM_LABELS } from './custom-labels.ts';
import { log } from '../log.ts';

/** litellm_deployment_state looks at this much recent traffic, in slots of HEALTH_SLOT_MS. */
export const HEALTH_WINDOW_MS = 60_000;
const HEALTH_SLOT_MS = 10_000;

/**
 * The series one metrics shard owns, added up in memory and written to the
 * `series` table of its SQLite storage at most every METRICS_PERSIST_EVERY_MS,
 * so counters survive a restart (losing at most that much). Each metric is
 * capped per shard; updates past the cap are counted in tollgate_metrics_series_dropped.
 */
export class ShardSeries {
  readonly #storage: DurableObjectStorage;
  readonly #env: GatewayEnv;
  #series = new Map<string, Series>();
  #perMetric = new Map<string, number>();
  #dirty = new Set<string>();
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #health = new Map<string, Map<number, [number, number]>>();
  #capPerShard: number | undefined;
  /** Series of each metric whose custom labels hold a client's values (not collapsed to OTHER_VALUE). */
  #customPerMetric = new Map<string, number>();
  #customCapPerShard: number | undefined;

  constructor(storage: DurableObjectStorage, env: GatewayEnv) {
    this.#storage = storage;
    this.#env = env;
  }

  /** Creates the table and reads back the series persisted before a restart. */
  load(): void {
    const sql = this.#storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS series (key TEXT PRIMARY KEY, data TEXT NOT NULL)');
    for (const row of sql.exec<{ key: string; data: string }>('SELECT key, data FROM series')) {
      try {
        const s = JSON.parse(row.data) as Series;
        if (!METRICS_BY_NAME.has(s.m)) continue;
        s.v = Number(s.v); // ±Infinity is stored as a string (JSON has no infinity)
        this.#series.set(row.key, s);
        this.#perMetric.set(s.m, (this.#perMetric.get(s.m) ?? 0) + 1);
        if (customValued(METRICS_BY_NAME.get(s.m)!, s.l)) this.#customPerMetric.set(s.m, (this.#customPerMetric.get(s.m) ?? 0) + 1);
      } catch {
        // a row this version cannot read is dropped with the next write
      }
    }
  }

  /** Adds up an isolate's deltas; malformed ones are ignored. */
  add(deltas: Delta[]): void {
    for (const d of deltas) this.#apply(d);
    this.#schedulePersist();
  }

  /** Every series, deployment states brought up to date. */
  snapshot(): Series[] {
    const now = Date.now();
    const series: Series[] = [];
    for (const [key, s] of this.#series) {
      if (METRICS_BY_NAME.get(s.m)?.kind === 'state') s.v = this.#state(key, s, now);
      series.push(s);
    }
    return series;
  }

  setGauge(def: MetricDef, values: Record<string, string>, v: number): void {
    const l = labelValuesOf(def, values);
    const key = seriesKey(def.name, l);
    const s = this.#slot(def, key, l);
    if (!s) return;
    s.v = v;
    s.at = Date.now();
    this.#dirty.add(key);
    this.#schedulePersist();
  }

  /** A budget that was removed takes its max-budget gauge with it. */
  dropGauge(def: MetricDef, values: Record<string, string>): void {
    const key = seriesKey(def.name, labelValuesOf(def, values));
    if (!this.#series.delete(key)) return;
    this.#perMetric.set(def.name, Math.max(0, (this.#perMetric.get(def.name) ?? 1) - 1));
    this.#dirty.delete(key);
    this.#storage.sql.exec('DELETE FROM series WHERE key = ?', key);
  }

  #apply(d: Delta): void {
    const def = METRICS_BY_NAME.get(d?.m);
    if (!def || !Array.isArray(d.l) || !d.l.every((v) => typeof v === 'string') || !wellLabelled(def, d.l)) return;
    const expected = { counter: 'c', gauge: 'g', histogram: 'h', state: 's' }[def.kind];
    if (d.k !== expected) return;
    let labels = d.l;
    // A client writes custom label values: past this shard's share of them, a new combination is counted under OTHER_VALUE.
    if (customValued(def, labels) && !this.#series.has(seriesKey(d.m, labels)) && (this.#customPerMetric.get(def.name) ?? 0) >= this.#customCap()) {
      labels = collapsed(def, labels);
    }
    const key = seriesKey(d.m, labels);
    const s = this.#slot(def, key, labels);
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
    if (customValued(def, l)) this.#customPerMetric.set(def.name, (this.#customPerMetric.get(def.name) ?? 0) + 1);
    return s;
  }

  /** MAX_SERIES_PER_METRIC split over the shards; TOLLGATE_METRICS_MAX_SERIES (a var) overrides the total. */
  #cap(): number {
    if (this.#capPerShard === undefined) {
      const total = Number(this.#env.TOLLGATE_METRICS_MAX_SERIES);
      this.#capPerShard = Number.isInteger(total) && total > 0 ? Math.ceil(total / METRIC_SHARDS) : MAX_SERIES_PER_SHARD;
    }
    return this.#capPerShard;
  }

  /** CUSTOM_SERIES_PER_METRIC split over the shards; TOLLGATE_METRICS_MAX_CUSTOM_SERIES (a var) overrides the total. */
  #customCap(): number {
    if (this.#customCapPerShard === undefined) {
      const total = Number(this.#env.TOLLGATE_METRICS_MAX_CUSTOM_SERIES);
      this.#customCapPerShard = Math.ceil((Number.isInteger(total) && total > 0 ? total : CUSTOM_SERIES_PER_METRIC) / METRIC_SHARDS);
    }
    return this.#customCapPerShard;
  }

  #countDropped(metric: string): void {
    const l = [metric];
    const key = seriesKey(M.droppedSeries.name, l);
    const s = this.#slot(M.droppedSeries, key, l);
    if (!s) return;
    s.v += 1;
    this.#dirty.add(key);
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
      this.#storage.transactionSync(() => {
        for (const key of keys) {
          const s = this.#series.get(key);
          if (s) this.#storage.sql.exec('INSERT OR REPLACE INTO series (key, data) VALUES (?, ?)', key, JSON.stringify(s, finite));
        }
      });
    } catch (err) {
      for (const key of keys) this.#dirty.add(key);
      log.error('metrics shard: persisting series failed, retrying:', err instanceof Error ? err.message : String(err));
      this.#schedulePersist();
    }
  }
}

/**
 * A series' values: the metric's own labels', then, on the request-level metrics, up to
 * MAX_CUSTOM_LABELS custom labels as name/value pairs (custom-labels.ts), each name once.
 */
function wellLabelled(def: MetricDef, l: string[]): boolean {
  const extra = l.length - def.labels.length;
  if (extra === 0) return true;
  if (extra < 0 || extra % 2 !== 0 || extra > MAX_CUSTOM_LABELS * 2 || !CUSTOM_LABELLED.includes(def)) return false;
  const names = new Set<string>();
  for (let i = def.labels.length; i < l.length; i += 2) {
    const name = l[i] as string;
    if (!isCustomLabelName(name) || names.has(name) || (l[i + 1] as string).length > MAX_CUSTOM_LABEL_CHARS) return false;
    names.add(name);
  }
  return true;
}

/**
 * Series a metric may have, across the shards, whose custom labels (`custom_prometheus_metadata_labels`) hold
 * values of their own: a client writes those values, so beyond this a new combination is counted under
 * OTHER_VALUE rather than taking series from everyone's (the metric's cap, TOLLGATE_METRICS_MAX_SERIES).
 */
export const CUSTOM_SERIES_PER_METRIC = 1000;
export const OTHER_VALUE = 'other';

/** Whether a series carries custom labels with any value of a client's own (not all OTHER_VALUE or "None"). */
function customValued(def: MetricDef, l: string[]): boolean {
  for (let i = def.labels.length + 1; i < l.length; i += 2) if (l[i] !== OTHER_VALUE && l[i] !== NONE) return true;
  return false;
}

/** The labels with every custom value OTHER_VALUE (names kept). */
function collapsed(def: MetricDef, l: string[]): string[] {
  return l.map((v, i) => (i >= def.labels.length && (i - def.labels.length) % 2 === 1 ? OTHER_VALUE : v));
}

/** JSON replacer: a remaining budget of +Inf (no budget) survives the round trip as "Infinity". */
function finite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
