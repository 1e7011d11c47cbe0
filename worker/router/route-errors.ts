import { GatewayError } from '../errors.ts';
import type { BudgetRefusal } from '../limits/budget-hold.ts';
import { CROSSED_BUDGET } from '../limits/router-budgets.ts';

// The errors routing answers with, in LiteLLM's words, and which failures count against a deployment.

/** Failures that say something about the deployment (and so count towards its cooldown). */
export function countsAgainst(err: GatewayError): boolean {
  return err.retryable || err.status === 401 || err.status === 403 || err.status === 404;
}

/** The error as the client gets it: with LiteLLM's x-litellm-attempted-retries and -fallbacks headers. */
export function withAttempts(err: GatewayError, retries: number, fallbacks: number): GatewayError {
  return new GatewayError(err.message, {
    status: err.status, type: err.type, param: err.param, provider: err.provider, upstreamStatus: err.upstreamStatus, retryable: err.retryable,
    headers: { ...err.headers, 'x-litellm-attempted-retries': String(retries), 'x-litellm-attempted-fallbacks': String(fallbacks) },
  });
}

/** LiteLLM's 429 when every deployment left has a spent budget (a provider's, its own): which, one a line. */
export function crossedBudget(crossed: BudgetRefusal[]): GatewayError {
  const waits = crossed.map((c) => c.retryAfterSeconds).filter((s): s is number => s !== undefined);
  return new GatewayError(`${CROSSED_BUDGET}: ${[...new Set(crossed.map((c) => c.refused))].join('\n')}`, {
    status: 429, type: 'budget_exceeded',
    // When the first of the spent budgets starts again (none when one never resets).
    ...(waits.length === crossed.length && waits.length ? { headers: { 'retry-after': String(Math.max(1, Math.ceil(Math.min(...waits)))) } } : {}),
  });
}

/** LiteLLM's 429 when every deployment of a group is cooling down, with the cooldown's `retry-after`. */
export function noDeployments(requested: string, group: string, until: number, now: number): GatewayError {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  return new GatewayError(`No deployments available for selected model, Try again in ${seconds} seconds. Passed model=${requested}. model_group=${group}`, {
    status: 429, type: 'rate_limit_error', retryable: true, headers: { 'retry-after': String(seconds) },
  });
}

/**
 * The 429 when every deployment of a group that could serve the call is at its `max_parallel_requests`
 * (calls in flight), after a brief wait for a slot and the group's fallbacks: LiteLLM's "No deployments
 * available" words, with a `retry-after` of a second (a slot frees as soon as any call ends).
 */
export function atParallelLimit(requested: string, group: string): GatewayError {
  return new GatewayError(`No deployments available for selected model, Try again in 1 seconds. Passed model=${requested}. model_group=${group}. Every deployment is at its max_parallel_requests (calls in flight)`, {
    status: 429, type: 'rate_limit_error', retryable: true, headers: { 'retry-after': '1' },
  });
}
