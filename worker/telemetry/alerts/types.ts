/**
 * What isolates send the aggregating objects for alerting: candidates, which
 * the object owning their dedupe key turns into at most one Slack message
 * per window, and budget checks, which the object owning the entity turns
 * into budget gauges and threshold alerts.
 */

/** LiteLLM's `alert_types` names; `callback_failure` and `cache_unavailable` are Tollgate's own. */
export type AlertType = 'budget_alerts' | 'llm_too_slow' | 'cooldown_deployment' | 'callback_failure' | 'cache_unavailable' | 'spend_reports';

export type AlertCandidate =
  | {
    type: 'llm_too_slow';
    /** Deduplicated per deployment. */
    dedupe: string;
    group: string;
    model: string;
    deploymentId: string;
    apiBase: string;
    seconds: number;
  }
  | {
    type: 'cooldown_deployment';
    dedupe: string;
    group: string;
    model: string;
    deploymentId: string;
    apiBase: string;
    status: string;
    cooldownSeconds: number;
    reason: string;
  }
  | {
    type: 'callback_failure';
    dedupe: string;
    callback: string;
    error: string;
  }
  | {
    /** The response cache's Redis failed or timed out: requests went on uncached. */
    type: 'cache_unavailable';
    dedupe: string;
    timeouts: number;
    errors: number;
    error: string;
  };

export type BudgetEntityKind = 'key' | 'team' | 'org' | 'user' | 'global';

/** An entity a request was charged to: its budget is re-read from its limiter, off the hot path. */
export interface BudgetCheck {
  kind: BudgetEntityKind;
  id: string;
  /** Keys: the budgets the request saw; null for both means the key has none (no limiter call needed). */
  maxBudget?: number | null;
  softBudget?: number | null;
  /** Keys: the alias the request saw (for the gauges of a key without a budget). */
  alias?: string | null;
}

export function budgetEntityKey(kind: BudgetEntityKind, id: string): string {
  return `budget:${kind}:${id}`;
}
