import type { Pool } from '@neondatabase/serverless';
import { openDatabase } from '../db/client.ts';
import { withWindowSpend } from './budget-limits.ts';
import { JWT_TOKEN_PREFIX } from '../auth/jwt-identity.ts';
import { jwtKeyPolicy } from './jwt-policy.ts';
import type { GatewayEnv } from '../env.ts';
import { type GatewayState, gatewayState } from '../state.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, deploymentById } from '../models/deployments.ts';
import { DEPLOYMENT_PREFIX, deploymentBudget, PROVIDER_PREFIX, providerBudget, type RouterBudget, TAG_PREFIX, tagBudget } from './router-budgets.ts';
import type { EntityKind } from './client.ts';
import { now } from './clock.ts';
import { type EntityPolicy, loadPolicy, missingPolicy } from './policy.ts';
import { budgetWindowStart, nextBudgetReset } from './windows.ts';
import { agentPolicy } from '../a2a/agent-limits.ts';

/** An entity's policy as Postgres (and, for the proxy-wide cap and end-user defaults, the config) has it now. */
export async function readPolicy(env: GatewayEnv, kind: EntityKind, id: string, timeZone: string): Promise<EntityPolicy> {
  if (kind === 'global') return globalPolicy(env, id, timeZone);
  if (kind === 'agent') return agentPolicy(env, id);
  const database = openDatabase(env);
  try {
    const t = now();
    if (kind === 'key' && id.startsWith(JWT_TOKEN_PREFIX)) return await jwtKeyPolicy(database.pool, (await gatewayState(env)).config, id);
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
 * The proxy-wide cap (id `proxy`: `general_settings.max_budget` /
 * `budget_duration`, or LiteLLM's `litellm_settings` pair), or a budget of
 * budget routing (router-budgets.ts: a provider's, a deployment's, a tag's).
 * Its spend so far is what the spend logs hold for the window open now; from
 * then on, isolates spend it through leases (see HOT_RPS: these objects
 * always lease).
 */
async function globalPolicy(env: GatewayEnv, id: string, timeZone: string): Promise<EntityPolicy> {
  const state = await gatewayState(env);
  const { config } = state;
  const general = config.general_settings;
  const database = openDatabase(env);
  try {
    const budget = id === 'proxy' ? proxyBudget(config) : await routerBudgetOf(env, state, id, database.pool);
    const t = now();
    const start = budget?.duration ? budgetWindowStart(budget.duration, new Date(t), timeZone) : undefined;
    const end = budget?.duration ? nextBudgetReset(budget.duration, new Date(t), timeZone) : undefined;
    const disableSpendLogs = general.disable_spend_logs === true;
    const spend = id === 'proxy' ? await proxySpend(database.pool, disableSpendLogs, start) : await routerBudgetSpend(database.pool, disableSpendLogs, id, budget?.deployment, start);
    return {
      ...missingPolicy('global', id), exists: true, alias: budget?.label ?? null, maxBudget: budget?.maxBudget ?? null,
      budgetDuration: budget?.duration ?? null, budgetResetAt: end?.getTime() ?? null, spend,
    };
  } finally {
    await database.close();
  }
}

type GlobalBudget = RouterBudget & { label?: string; deployment?: DeploymentRef };

function proxyBudget(config: TollgateConfig): GlobalBudget | undefined {
  const maxBudget = config.general_settings.max_budget ?? config.litellm_settings.max_budget;
  return maxBudget === undefined ? undefined : { maxBudget, duration: config.general_settings.budget_duration ?? config.litellm_settings.budget_duration ?? null };
}

/**
 * A provider's, deployment's (config.yaml's or the DB's) or tag's budget (config.yaml's
 * `tag_budget_config`, else the budget row of the tag's `/tag/new` entry), by its limiter id;
 * undefined once it is no longer configured.
 */
async function routerBudgetOf(env: GatewayEnv, state: GatewayState, id: string, pool: Pick<Pool, 'query'>): Promise<GlobalBudget | undefined> {
  if (id.startsWith(PROVIDER_PREFIX)) return providerBudget(state.config, id.slice(PROVIDER_PREFIX.length));
  if (id.startsWith(TAG_PREFIX)) {
    const tag = id.slice(TAG_PREFIX.length);
    return tagBudget(state.config, tag) ?? await storedTagBudget(pool, tag);
  }
  if (!id.startsWith(DEPLOYMENT_PREFIX)) return undefined;
  const modelId = id.slice(DEPLOYMENT_PREFIX.length);
  const catalog = await currentCatalog(state, env as unknown as Record<string, unknown>, { waitUntil: () => undefined });
  const d = deploymentById(catalog, modelId);
  const budget = d && deploymentBudget(d);
  return d && budget ? { ...budget, deployment: d, label: `model_name: ${d.group}, litellm_params.model: ${d.params.model}, model_id: ${d.id}` } : undefined;
}

/** A tag's budget from LiteLLM_TagTable and its budget row (`/tag/new` with `max_budget`). */
async function storedTagBudget(pool: Pick<Pool, 'query'>, tag: string): Promise<RouterBudget | undefined> {
  const { rows } = await pool.query<{ max_budget: number | string | null; budget_duration: string | null }>(
    'SELECT b.max_budget, b.budget_duration FROM "LiteLLM_TagTable" t JOIN "LiteLLM_BudgetTable" b ON b.budget_id = t.budget_id WHERE t.tag_name = $1', [tag]);
  const row = rows[0];
  return row && row.max_budget !== null ? { maxBudget: Number(row.max_budget), duration: row.budget_duration } : undefined;
}

/**
 * A budget of budget routing's spend since `since`, from the spend-log rows (by provider, deployment id,
 * or tag), or with `disable_spend_logs` from the daily rollups (a deployment's: its model's at its
 * provider, which can only make it stricter).
 */
async function routerBudgetSpend(pool: Pick<Pool, 'query'>, disableSpendLogs: boolean, id: string, deployment: DeploymentRef | undefined, since = new Date(0)): Promise<number> {
  const day = since.toISOString().slice(0, 10);
  let query: [string, unknown[]] | undefined;
  if (id.startsWith(PROVIDER_PREFIX)) {
    const provider = id.slice(PROVIDER_PREFIX.length);
    query = disableSpendLogs
      ? ['SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_DailyKeySpend" WHERE date >= $1 AND custom_llm_provider = $2', [day, provider]]
      : ['SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_SpendLogs" WHERE "startTime" >= $1 AND custom_llm_provider = $2', [since, provider]];
  } else if (id.startsWith(TAG_PREFIX)) {
    const tag = id.slice(TAG_PREFIX.length);
    query = disableSpendLogs
      ? ['SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_DailyTagSpend" WHERE date >= $1 AND tag = $2', [day, tag]]
      : ['SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_SpendLogs" WHERE "startTime" >= $1 AND request_tags ? $2', [since, tag]];
  } else if (deployment) {
    query = disableSpendLogs
      ? ['SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_DailyKeySpend" WHERE date >= $1 AND model = $2 AND custom_llm_provider = $3', [day, deployment.model, deployment.provider]]
      // A wildcard entry's calls are logged under `<its id>:<model>`.
      : ['SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_SpendLogs" WHERE "startTime" >= $1 AND (model_id = $2 OR starts_with(model_id, $2 || \':\'))', [since, deployment.id]];
  }
  if (!query) return 0;
  const { rows } = await pool.query<{ spend: number | string | null }>(query[0], query[1]);
  return Number(rows[0]?.spend ?? 0);
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
