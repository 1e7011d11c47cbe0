import { DurableObject } from 'cloudflare:workers';
import type { GatewayEnv } from '../../env.ts';
import { alertSettings } from '../alerts/settings.ts';
import type { AlertCandidate, BudgetCheck } from '../alerts/types.ts';
import type { PagerDutyReport } from '../alerts/pagerduty.ts';
import type { Delta, Series } from './registry.ts';
import { ShardAlerts } from './shard-alerts.ts';
import { ShardBudgets } from './shard-budgets.ts';
import { ShardPagerDuty } from './shard-pagerduty.ts';
import { ShardSeries } from './shard-series.ts';
import { withConfigEnv } from '../../config/config-env.ts';

export { HEALTH_WINDOW_MS } from './shard-series.ts';

/** What an isolate sends one shard per flush. */
export interface ShardBatch {
  deltas: Delta[];
  budgets: BudgetCheck[];
  alerts: AlertCandidate[];
  /** Failed and hanging calls, to the PagerDuty shard only (shard-pagerduty.ts). */
  pagerduty?: PagerDutyReport;
}

export interface ShardSnapshot {
  series: Series[];
}

/**
 * One shard of the metrics aggregate. Isolates send it the deltas of the
 * series it owns (a hash of name and labels picks the shard) at most once a
 * second each; it adds them up in memory and writes the changed series to
 * its SQLite storage at most every METRICS_PERSIST_EVERY_MS, so counters
 * survive a restart (losing at most that much). `GET /metrics` reads every
 * shard's snapshot and renders them together (shard-series.ts).
 *
 * It also owns the alerting of the entities and dedupe keys that hash to it:
 * budget checks (the entity's limiter is asked for its spend, which feeds
 * the budget gauges and the 80% / 100% alerts, once each per budget
 * window; shard-budgets.ts), and slow-request, cooldown and callback alerts
 * (one per key per window). Messages go to an outbox in storage, delivered
 * by the alarm with retries: never from a request's path (shard-alerts.ts).
 */
export class MetricsAggregator extends DurableObject<GatewayEnv> {
  readonly #series: ShardSeries;
  readonly #alerts: ShardAlerts;
  readonly #budgets: ShardBudgets;
  readonly #pagerduty: ShardPagerDuty;

  constructor(ctx: DurableObjectState, raw: GatewayEnv) {
    // config.yaml's environment_variables, as the Workers' handlers see them (config-env.ts).
    super(ctx, withConfigEnv(raw));
    const env = this.env;
    this.#series = new ShardSeries(ctx.storage, env);
    this.#alerts = new ShardAlerts(ctx.storage, env);
    this.#budgets = new ShardBudgets(env, this.#series, this.#alerts);
    this.#pagerduty = new ShardPagerDuty(env, this.#alerts);
    void ctx.blockConcurrencyWhile(async () => {
      this.#series.load();
      this.#alerts.load();
    });
  }

  /** An isolate's deltas, budget checks and alert candidates for this shard. */
  async ingest(batch: ShardBatch): Promise<void> {
    this.#series.add(batch.deltas ?? []);
    const settings = alertSettings(this.env);
    for (const a of batch.alerts ?? []) this.#alerts.candidate(a, settings.thresholdS);
    if (batch.pagerduty) this.#pagerduty.ingest(batch.pagerduty);
    const reads: Promise<void>[] = [];
    for (const c of batch.budgets ?? []) {
      const read = this.#budgets.queue(c);
      if (read) reads.push(read);
    }
    await Promise.all(reads);
  }

  /** Every series of this shard, deployment states brought up to date. */
  async snapshot(): Promise<ShardSnapshot> {
    return { series: this.#series.snapshot() };
  }

  /** Delivers the due messages of the outbox, in order; failures are retried with backoff, then dropped (logged). */
  override async alarm(): Promise<void> {
    await this.#alerts.deliver();
  }
}
