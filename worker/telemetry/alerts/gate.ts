import type { AlertType } from './types.ts';

/**
 * Deduplication, as pure functions the aggregating object applies to the
 * state it keeps per dedupe key (persisted, so a restart does not repeat
 * an alert).
 */

/** A budget alert fires when spend reaches these shares of the budget: once each per window. */
export const BUDGET_THRESHOLDS: readonly number[] = [0.8, 1.0];

/** At most one alert of these types per dedupe key (deployment, callback) per window; the next one says how many were held back. */
export const ALERT_WINDOW_MS: Record<Exclude<AlertType, 'budget_alerts' | 'spend_reports'>, number> = {
  llm_too_slow: 60_000,
  cooldown_deployment: 60_000,
  callback_failure: 5 * 60_000,
  cache_unavailable: 5 * 60_000,
};

export interface GateState {
  lastAt: number;
  suppressed: number;
}

/** Whether an alert goes out now, and the key's next state. `suppressed` counts the alerts held back since the last one sent. */
export function passGate(state: GateState | undefined, now: number, windowMs: number): { send: boolean; suppressed: number; next: GateState } {
  if (state && now - state.lastAt < windowMs) {
    return { send: false, suppressed: state.suppressed + 1, next: { lastAt: state.lastAt, suppressed: state.suppressed + 1 } };
  }
  return { send: true, suppressed: state?.suppressed ?? 0, next: { lastAt: now, suppressed: 0 } };
}

/** Spend within this share of a threshold counts as reaching it (sums of float costs land a hair below). */
const EPSILON = 1e-9;

/**
 * The thresholds a budget has reached, and which of them are new (to
 * announce, lowest first). Spend only falls when a window restarts (or the
 * budget is raised): thresholds it fell back under are forgotten, so each
 * is announced once per window. A request that jumps over both announces
 * both.
 */
export function budgetCrossings(crossed: readonly number[], spend: number, maxBudget: number): { announce: number[]; next: number[] } {
  if (!(maxBudget > 0)) return { announce: [], next: [] };
  const reached = BUDGET_THRESHOLDS.filter((t) => spend >= t * maxBudget * (1 - EPSILON));
  return { announce: reached.filter((t) => !crossed.includes(t)), next: reached };
}

/** Whether spend has reached a soft budget (LiteLLM's `spend >= soft_budget`, for some spend): the Slack and webhook alerts' rule and the emails'. */
export const softBudgetReached = (spend: number, softBudget: number | null): boolean =>
  softBudget !== null && softBudget >= 0 && spend > 0 && spend >= softBudget * (1 - EPSILON);

/**
 * Whether spend has reached a soft budget, and whether that is news: announced once, forgotten when spend falls
 * back under it (a new window, or a raised soft budget), as the thresholds are.
 */
export function softBudgetCrossing(crossed: boolean, spend: number, softBudget: number | null): { announce: boolean; next: boolean } {
  const reached = softBudgetReached(spend, softBudget);
  return { announce: reached && !crossed, next: reached };
}

/** A budget email's dedupe state: nothing of its kind goes to the entity before `until` (epoch ms). */
export interface EmailGate {
  until: number;
}

/** Whether a budget email may go now (LiteLLM: once per EMAIL_BUDGET_ALERT_TTL per entity, while the condition holds). */
export const emailDue = (state: EmailGate | undefined, now: number): boolean => !state || !(now < state.until);
