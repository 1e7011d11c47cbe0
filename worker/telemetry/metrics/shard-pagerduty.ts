import type { GatewayEnv } from '../../env.ts';
import { foldWindow, pagerDutyEvent, type PagerDutyKind, type PagerDutyReport, type PagerDutyWindow } from '../alerts/pagerduty.ts';
import { alertSettings } from '../alerts/settings.ts';
import type { ShardAlerts } from './shard-alerts.ts';

/**
 * PagerDuty's counting, in the one shard every isolate reports its failed and
 * hanging calls to (buffer.ts PAGERDUTY_SHARD): the windows live in the
 * shard's alert state (persisted, so a restart neither forgets a count nor
 * repeats an alert), and an alert goes to the outbox, delivered by the alarm
 * with retries (shard-alerts.ts).
 */
export class ShardPagerDuty {
  readonly #env: GatewayEnv;
  readonly #alerts: ShardAlerts;

  constructor(env: GatewayEnv, alerts: ShardAlerts) {
    this.#env = env;
    this.#alerts = alerts;
  }

  /** One isolate's report: each kind's window updated, and an alert queued when its threshold is reached. */
  ingest(report: PagerDutyReport): void {
    const settings = alertSettings(this.#env).pagerduty;
    if (!settings || !report || typeof report !== 'object') return;
    this.#fold('failed_response', report.failed, settings.failureThreshold, settings.failureWindowMs);
    this.#fold('hanging_response', report.hanging, settings.hangingThreshold, settings.hangingWindowMs);
  }

  #fold(kind: PagerDutyKind, side: PagerDutyReport['failed'] | undefined, threshold: number, windowMs: number): void {
    if (!side || !Array.isArray(side.at) || side.at.length === 0) return;
    const key = `pagerduty:${kind}`;
    const now = Date.now();
    const { alert, next } = foldWindow(this.#alerts.get(key) as PagerDutyWindow | undefined, side.at, Array.isArray(side.recent) ? side.recent : [], now, threshold, windowMs);
    this.#alerts.save(key, next);
    if (alert) this.#alerts.enqueue(pagerDutyEvent(kind, alert.count, windowMs, alert.recent), 'pagerduty');
  }
}
