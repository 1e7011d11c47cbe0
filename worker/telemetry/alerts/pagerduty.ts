/**
 * PagerDuty alerting (LiteLLM's `general_settings.alerting: ["pagerduty"]`): a
 * trigger event to the Events API v2 when LLM calls fail, or hang, at least N
 * times within a window. Isolates buffer what they saw (buffer.ts); one metrics
 * shard counts across isolates and queues the event in its outbox
 * (shard-pagerduty.ts), so nothing is sent from a request's path.
 */

/** LiteLLM's defaults (its PagerDutyAlerting). */
export const PAGERDUTY_DEFAULTS = {
  failure_threshold: 60,
  failure_threshold_window_seconds: 60,
  hanging_threshold_seconds: 60,
  /** LiteLLM's AlertingConfig names it; its code then always uses 60 (the hanging seconds' default). */
  hanging_threshold_fails: 60,
  hanging_threshold_window_seconds: 600,
} as const;

/** PagerDuty's public Events API; PAGERDUTY_API_BASE replaces the origin (a proxy, or a fake in tests). */
export const PAGERDUTY_EVENTS_BASE = 'https://events.pagerduty.com';

/** Event timestamps kept per kind: a threshold beyond this counts this many (cross-checks.ts warns of it). */
export const MAX_TRACKED = 10_000;
/** LiteLLM shows the last five events in `custom_details.recent_errors`. */
export const RECENT_EVENTS = 5;

export interface PagerDutySettings {
  failureThreshold: number;
  failureWindowMs: number;
  hangingMs: number;
  hangingThreshold: number;
  hangingWindowMs: number;
}

export type PagerDutyKind = 'failed_response' | 'hanging_response';

/** One failed or hanging call as LiteLLM's PagerDutyInternalEvent describes it (a key by its hash only). */
export interface PagerDutyEventDetail {
  failure_event_type: PagerDutyKind;
  error_class: string | null;
  error_code: string | null;
  error_llm_provider: string | null;
  user_api_key_hash: string | null;
  user_api_key_alias: string | null;
  user_api_key_team_id: string | null;
  user_api_key_team_alias: string | null;
  user_api_key_user_id: string | null;
  user_api_key_org_id: string | null;
  user_api_key_end_user_id: string | null;
  user_api_key_request_route: string | null;
}

/** One of the last few events, with when it happened, so it leaves `recent_errors` when it leaves the window. */
export interface PagerDutyRecent {
  at: number;
  detail: PagerDutyEventDetail;
}

/** What one isolate saw between two flushes, per kind: when each event happened, and the last few in full. */
export interface PagerDutyReport {
  failed: { at: number[]; recent: PagerDutyRecent[] };
  hanging: { at: number[]; recent: PagerDutyRecent[] };
}

/** The counting state a shard keeps per kind. */
export interface PagerDutyWindow {
  at: number[];
  recent: PagerDutyRecent[];
  /** When the last alert of this kind went out (0: never). */
  lastAlertAt: number;
}

export function emptyReport(): PagerDutyReport {
  return { failed: { at: [], recent: [] }, hanging: { at: [], recent: [] } };
}

/** `general_settings.alerting_args` read as LiteLLM reads it, its defaults where a value is unset. */
export function pagerDutySettings(args: Partial<Record<keyof typeof PAGERDUTY_DEFAULTS, number>> | undefined): PagerDutySettings {
  const v = (name: keyof typeof PAGERDUTY_DEFAULTS) => args?.[name] ?? PAGERDUTY_DEFAULTS[name];
  return {
    failureThreshold: Math.max(1, Math.min(MAX_TRACKED, Math.floor(v('failure_threshold')))),
    failureWindowMs: v('failure_threshold_window_seconds') * 1000,
    hangingMs: v('hanging_threshold_seconds') * 1000,
    hangingThreshold: Math.max(1, Math.min(MAX_TRACKED, Math.floor(v('hanging_threshold_fails')))),
    hangingWindowMs: v('hanging_threshold_window_seconds') * 1000,
  };
}

/** Adds one event to an isolate's report, bounded (the timestamps to MAX_TRACKED, the details to the last RECENT_EVENTS). */
export function noteEvent(report: PagerDutyReport, detail: PagerDutyEventDetail, at: number): void {
  const side = detail.failure_event_type === 'failed_response' ? report.failed : report.hanging;
  if (side.at.length < MAX_TRACKED) side.at.push(at);
  side.recent.push({ at, detail });
  if (side.recent.length > RECENT_EVENTS) side.recent.shift();
}

/**
 * Folds an isolate's events into a shard's window and says whether to alert now. As LiteLLM: events older than
 * the window are dropped, and at `threshold` events within it an alert goes out and the count starts again.
 * Beyond LiteLLM: no second alert of the kind within `windowMs` of the last (a storm pages once per window;
 * the events counted meanwhile still count toward the next one).
 */
export function foldWindow(state: PagerDutyWindow | undefined, at: readonly number[], recent: readonly PagerDutyRecent[], now: number, threshold: number, windowMs: number): { alert: { count: number; recent: PagerDutyEventDetail[] } | null; next: PagerDutyWindow } {
  const cutoff = now - windowMs;
  const times = [...(state?.at ?? []), ...at.filter((t) => Number.isFinite(t))].filter((t) => t > cutoff).sort((a, b) => a - b);
  // Only the newest `threshold` matter: the threshold is reached when that many fall within the window.
  const kept = times.length > threshold ? times.slice(times.length - threshold) : times;
  // The details are pruned with the same cutoff: recent_errors shows only events the count includes.
  const details = [...(state?.recent ?? []), ...recent]
    .filter((r) => r && typeof r === 'object' && Number.isFinite(r.at) && r.at > cutoff)
    .sort((a, b) => a.at - b.at)
    .slice(-RECENT_EVENTS);
  const lastAlertAt = state?.lastAlertAt ?? 0;
  if (kept.length >= threshold && now - lastAlertAt >= windowMs) {
    return { alert: { count: times.length, recent: details.map((r) => r.detail) }, next: { at: [], recent: [], lastAlertAt: now } };
  }
  return { alert: null, next: { at: kept, recent: details, lastAlertAt } };
}

/**
 * The Events API v2 body LiteLLM sends (severity critical, source "LiteLLM Alert", component "LiteLLM", the
 * last five events in custom_details.recent_errors), without its routing key: the outbox never stores it,
 * delivery adds it. A stable dedup_key per kind folds repeated triggers into PagerDuty's open alert.
 */
export function pagerDutyEvent(kind: PagerDutyKind, count: number, windowMs: number, recent: PagerDutyEventDetail[]): string {
  const prefix = kind === 'failed_response' ? 'High LLM API Failure Rate' : 'High Number of Hanging LLM Requests';
  return JSON.stringify({
    event_action: 'trigger',
    dedup_key: kind === 'failed_response' ? 'tollgate-llm-api-failures' : 'tollgate-hanging-llm-requests',
    payload: {
      summary: `${prefix}: ${count} in the last ${windowMs / 1000} seconds.`,
      severity: 'critical',
      source: 'LiteLLM Alert',
      component: 'LiteLLM',
      timestamp: new Date().toISOString(),
      custom_details: { recent_errors: recent },
    },
  });
}

/** Where events go: PAGERDUTY_API_BASE's origin (and path prefix) or PagerDuty's, then /v2/enqueue. */
export function enqueueUrl(env: Record<string, unknown>): string {
  const base = typeof env.PAGERDUTY_API_BASE === 'string' && /^https?:\/\//.test(env.PAGERDUTY_API_BASE) ? env.PAGERDUTY_API_BASE : PAGERDUTY_EVENTS_BASE;
  return `${base.replace(/\/+$/, '').replace(/\/v2\/enqueue$/, '')}/v2/enqueue`;
}

/** The routing key (PAGERDUTY_API_KEY), put into a stored event's body at delivery. */
export function withRoutingKey(body: string, routingKey: string): string {
  return JSON.stringify({ routing_key: routingKey, ...(JSON.parse(body) as Record<string, unknown>) });
}
