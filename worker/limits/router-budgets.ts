import type { TollgateConfig } from '../config/schema.ts';
import type { DeploymentRef } from '../models/deployments.ts';

/**
 * LiteLLM's budget routing: budgets of providers (`router_settings.
 * provider_budget_config`), of deployments (`litellm_params.max_budget` /
 * `budget_duration`) and of request tags (`litellm_settings.tag_budget_config`).
 * Each is one limiter object of kind `global` (as the proxy-wide cap, id
 * `proxy`), named by its id here; a call holds room in it like in any other
 * budget, so concurrent calls cannot overrun it. A deployment whose provider
 * or own budget is spent is passed over by the router; a tag's spent budget
 * refuses the call. Pure: read by the gateway and by the limiter objects.
 */
export interface RouterBudget {
  maxBudget: number;
  /** The window (`1d`, `30d`, `1mo`, ...), calendar-aligned as every budget here; null: the budget never resets. */
  duration: string | null;
}

type BudgetEntry = NonNullable<TollgateConfig['router_settings']['provider_budget_config']>[string];

export const PROVIDER_PREFIX = 'provider:';
export const DEPLOYMENT_PREFIX = 'deployment:';
export const TAG_PREFIX = 'tag:';

function budgetOf(entry: BudgetEntry | undefined): RouterBudget | undefined {
  const maxBudget = entry?.budget_limit ?? entry?.max_budget;
  return maxBudget === undefined ? undefined : { maxBudget, duration: entry?.time_period ?? entry?.budget_duration ?? null };
}

export function providerBudget(config: TollgateConfig, provider: string): RouterBudget | undefined {
  return budgetOf(config.router_settings.provider_budget_config?.[provider]);
}

export function deploymentBudget(d: Pick<DeploymentRef, 'params'>): RouterBudget | undefined {
  const maxBudget = d.params.max_budget;
  return maxBudget === undefined ? undefined : { maxBudget, duration: d.params.budget_duration ?? null };
}

export function tagBudget(config: TollgateConfig, tag: string): RouterBudget | undefined {
  return budgetOf(config.litellm_settings.tag_budget_config?.[tag]);
}

/** The limiter ids of the budgets a deployment's calls count in: its provider's, its own; none for most. */
export function deploymentBudgetIds(config: TollgateConfig, d: Pick<DeploymentRef, 'id' | 'provider' | 'params' | 'baseId'>): string[] {
  const ids: string[] = [];
  if (config.router_settings.provider_budget_config?.[d.provider]) ids.push(PROVIDER_PREFIX + d.provider);
  // A wildcard deployment's budget is its config entry's, whichever model a call names.
  if (d.params.max_budget !== undefined) ids.push(DEPLOYMENT_PREFIX + (d.baseId ?? d.id));
  return ids;
}

/** The limiter ids of the budgets of a call's tags: those `tag_budget_config` names, and those `stored` (`/tag/new`'s with a budget). */
export function tagBudgetIds(config: TollgateConfig, tags: readonly string[], stored: ReadonlySet<string>): string[] {
  const budgets = config.litellm_settings.tag_budget_config;
  return tags.filter((t) => budgets?.[t] !== undefined || stored.has(t)).map((t) => TAG_PREFIX + t);
}

/**
 * Why a budget of budget routing is spent, in LiteLLM's words for it (its
 * budget limiter's), from the limiter id and the entity's label: the
 * provider, the deployment (`model_name: ..., litellm_params.model: ..., model_id: ...`) or the tag.
 */
export function crossedBudgetDetail(id: string, label: string, spend: number, max: number): string {
  if (id.startsWith(PROVIDER_PREFIX)) return `Exceeded budget for provider ${id.slice(PROVIDER_PREFIX.length)}: ${spend} >= ${max}`;
  if (id.startsWith(DEPLOYMENT_PREFIX)) return `Exceeded budget for deployment ${label}: ${spend} >= ${max}`;
  return `Exceeded budget for tag='${id.slice(TAG_PREFIX.length)}', tag_spend=${spend}, tag_budget_limit=${max}`;
}

/** LiteLLM's message when no deployment is left within its budgets (or a tag's is spent). */
export const CROSSED_BUDGET = 'No deployments available - crossed budget';
