import type { Pool } from '@neondatabase/serverless';
import { openDatabase } from '../db/client.ts';
import { withWindowSpend } from './budget-limits.ts';
import type { GatewayEnv } from '../env.ts';
import { gatewayState } from '../state.ts';
import type { EntityKind } from './client.ts';
import { now } from './clock.ts';
import { type EntityPolicy, loadPolicy, missingPolicy } from './policy.ts';
import { budgetWindowStart, nextBudgetReset } from './windows.ts';

/** An entity's policy as Postgres (and, for the proxy-wide cap and end-user defaults, the config) has it now. */
export async function readPolicy(env: GatewayEnv, kind: EntityKind, id: string, timeZone: string): Promise<EntityPolicy> {
  if (kind === 'global') return globalPolicy(env, id, timeZone);
  const database = openDatabase(env);
  try {
    const t = now();
    const policy = await loadPolicy(database.pool, kind, id, t, timeZone);
    if (kind === 'end_user') return await endUserDefaults(env, policy);
    if (!policy.budgetLimits?.length) return policy;
    const { config } = await gatewayState(env);
    return await withWindowSpend(database.pool, policy, t, timeZone, config.general_settings.disable_spend_logs === true);
  } finally {
    // Closed before answering: an object's socket must not outlive the call that opened it.
    await database.close();
  }
}

/**
 * The proxy-wide cap (`general_settings.max_budget` / `budget_duration`, or
 * LiteLLM's `litellm_settings` pair). Its spend so far is what the spend
 * logs hold for the window open now; from then on, isolates spend it
 * through leases (see HOT_RPS: the global object always leases).
 */
async function globalPolicy(env: GatewayEnv, id: string, timeZone: string): Promise<EntityPolicy> {
  const { config } = await gatewayState(env);
  const general = config.general_settings;
  const litellm = config.litellm_settings;
  const maxBudget = general.max_budget ?? litellm.max_budget ?? null;
  const budgetDuration = general.budget_duration ?? litellm.budget_duration ?? null;
  const t = now();
  const start = budgetDuration ? budgetWindowStart(budgetDuration, new Date(t), timeZone) : undefined;
  const end = budgetDuration ? nextBudgetReset(budgetDuration, new Date(t), timeZone) : undefined;
  const database = openDatabase(env);
  try {
    const spend = await proxySpend(database.pool, general.disable_spend_logs === true, start);
    return { ...missingPolicy('global', id), exists: true, maxBudget, budgetDuration, budgetResetAt: end?.getTime() ?? null, spend };
  } finally {
    await database.close();
  }
}

/**
 * Every call's spend since `since` (all time without): summed from the spend-log rows, or with
 * `disable_spend_logs` (no rows) from the daily key rollups, by UTC day (the first day counts whole,
 * which can only make a budget stricter).
 */
export async function proxySpend(pool: Pick<Pool, 'query'>, disableSpendLogs: boolean, since = new Date(0)): Promise<number> {
  const { rows } = disableSpendLogs
    ? await pool.query<{ spend: number | string | null }>('SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_DailyKeySpend" WHERE date >= $1', [since.toISOString().slice(0, 10)])
    : await pool.query<{ spend: number | string | null }>('SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_SpendLogs" WHERE "startTime" >= $1', [since]);
  return Number(rows[0]?.spend ?? 0);
}

/** An end user without a budget of its own gets `litellm_settings.max_end_user_budget`, as in LiteLLM. */
async function endUserDefaults(env: GatewayEnv, policy: EntityPolicy): Promise<EntityPolicy> {
  if (policy.maxBudget !== null) return policy;
  const { config } = await gatewayState(env);
  const fallback = config.litellm_settings.max_end_user_budget;
  return fallback === undefined ? policy : { ...policy, maxBudget: fallback };
}
