import { GatewayError } from '../errors.ts';
import type { EntityKind } from './entity-kind.ts';
import { CROSSED_BUDGET, crossedBudgetDetail } from './router-budgets.ts';

/** A refusal as it crosses the RPC boundary (plain data), turned into a GatewayError by the gateway. */
export interface Refusal {
  status: number;
  type: string;
  message: string;
  param?: string | null;
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
  /** A budget of budget routing: which one is spent, for the router to name it among others (router-budgets.ts). */
  detail?: string;
}

export const KIND_LABEL: Record<EntityKind, string> = {
  key: 'Key', team: 'Team', org: 'Organization', user: 'User', team_member: 'User', end_user: 'End User', global: 'Proxy', agent: 'Agent',
};

export function toGatewayError(refusal: Refusal): GatewayError {
  const headers = { ...refusal.headers };
  if (refusal.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(refusal.retryAfterSeconds)));
  return new GatewayError(refusal.message, { status: refusal.status, type: refusal.type, param: refusal.param ?? null, headers });
}

const money = (v: number) => String(Math.round(v * 1e8) / 1e8);

/** LiteLLM's budget message, naming which budget (and for a key, which key) with its spend and limit. */
export function budgetExceeded(kind: EntityKind, name: string, spend: number, max: number, resetAt: number | null): Refusal {
  return {
    status: 429,
    type: 'budget_exceeded',
    message: `Budget has been exceeded! ${KIND_LABEL[kind]}=${name} Current cost: ${money(spend)}, Max budget: ${money(max)}`,
    param: null,
    ...(resetAt ? { retryAfterSeconds: Math.max(1, (resetAt - Date.now()) / 1000) } : {}),
  };
}

/** A budget of budget routing spent (a provider's, a deployment's, a tag's): LiteLLM's 429 for it. */
export function routerBudgetExceeded(id: string, label: string, spend: number, max: number, resetAt: number | null): Refusal {
  const detail = crossedBudgetDetail(id, label, spend, max);
  return {
    status: 429,
    type: 'budget_exceeded',
    message: `${CROSSED_BUDGET}: ${detail}`,
    param: null,
    detail,
    ...(resetAt ? { retryAfterSeconds: Math.max(1, (resetAt - Date.now()) / 1000) } : {}),
  };
}

/**
 * A per-model budget (`model_max_budget`) spent, in LiteLLM's words for it
 * (its model_max_budget limiter): "LiteLLM Virtual Key: <key hash>, key_alias:
 * <alias>, exceeded budget for model=<model>" for a key, "LiteLLM User: <id>,
 * ..." and "LiteLLM End User: <id>, ..." for the others.
 */
export function modelBudgetExceeded(kind: EntityKind, id: string, alias: string | null, model: string, resetAt: number | null): Refusal {
  const who = kind === 'key' ? `LiteLLM Virtual Key: ${id}, key_alias: ${alias ?? 'None'}` : `LiteLLM ${KIND_LABEL[kind]}: ${id}`;
  return {
    status: 429,
    type: 'budget_exceeded',
    message: `${who}, exceeded budget for model=${model}`,
    param: null,
    ...(resetAt ? { retryAfterSeconds: Math.max(1, (resetAt - Date.now()) / 1000) } : {}),
  };
}

/** LiteLLM's v3 limiter message and headers. */
export function rateLimited(descriptor: string, value: string, limitType: 'requests' | 'tokens' | 'max_parallel_requests', limit: number, retryMs: number, now: number): Refusal {
  const resetAt = new Date(now + retryMs);
  const reset = resetAt.toISOString().replace('T', ' ').slice(0, 19);
  return {
    status: 429,
    type: 'rate_limit_error',
    message: `Rate limit exceeded for ${descriptor}: ${value}. Limit type: ${limitType}. Current limit: ${limit}, Remaining: 0. Limit resets at: ${reset} UTC`,
    retryAfterSeconds: Math.max(1, retryMs / 1000),
    headers: { rate_limit_type: limitType, reset_at: reset },
  };
}
