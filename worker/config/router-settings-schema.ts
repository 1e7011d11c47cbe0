/** config.yaml's `router_settings`: routing strategy, retries, fallbacks, cooldowns, budgets, pre-call checks and caps. */
import { z } from 'zod';
import { bool, duration, fallbackList, nonNegative, posInt, str, strList } from './fields.ts';

/**
 * One budget of LiteLLM's budget routing: `budget_limit` and `time_period`
 * (provider_budget_config's spelling) or `max_budget` and `budget_duration`
 * (tag_budget_config's); read as `{ maxBudget, duration }` by router-budgets.ts.
 */
export const routerBudget = z.object({
  budget_limit: nonNegative.optional(),
  time_period: duration.optional(),
  max_budget: nonNegative.optional(),
  budget_duration: duration.optional(),
}).refine((b) => b.budget_limit !== undefined || b.max_budget !== undefined, { message: 'expected budget_limit (or max_budget)' });

const routingStrategy = z.enum([
  'simple-shuffle', 'least-busy', 'usage-based-routing', 'usage-based-routing-v2',
  'latency-based-routing', 'cost-based-routing',
], { error: 'expected one of simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing' });

/** LiteLLM's `OptionalPreCallChecks`. */
export const PRE_CALL_CHECKS = [
  'prompt_caching', 'router_budget_limiting', 'responses_api_deployment_check', 'deployment_affinity', 'session_affinity',
  'forward_client_headers_by_model_group', 'enforce_model_rate_limits', 'encrypted_content_affinity',
] as const;
const preCallCheck = z.enum(PRE_CALL_CHECKS, { error: `expected one of ${PRE_CALL_CHECKS.join(', ')}` });

export const routerSettingsSchema = z.object({
  routing_strategy: routingStrategy.optional(),
  // lowest_latency_buffer is acted on (latency-based routing); other keys load with a warning (validate.ts).
  routing_strategy_args: z.object({ lowest_latency_buffer: nonNegative.optional() }).catchall(z.unknown()).optional(),
  fallbacks: fallbackList.optional(),
  context_window_fallbacks: fallbackList.optional(),
  content_policy_fallbacks: fallbackList.optional(),
  default_fallbacks: strList.optional(),
  max_fallbacks: posInt.optional(),
  num_retries: posInt.optional(),
  retry_after: nonNegative.optional(),
  timeout: nonNegative.optional(),
  stream_timeout: nonNegative.optional(),
  allowed_fails: posInt.optional(),
  cooldown_time: nonNegative.optional(),
  disable_cooldowns: bool.optional(),
  retry_policy: z.record(str, posInt).optional(),
  allowed_fails_policy: z.record(str, posInt).optional(),
  model_group_alias: z.record(str, z.union([str, z.object({ model: str, hidden: bool.optional() })])).optional(),
  enable_pre_call_checks: bool.optional(),
  /** Tag-based routing (router/eligible-deployments.ts): a request's tags pick the deployments with matching `tags`. */
  enable_tag_filtering: bool.optional(),
  tag_filtering_match_any: bool.optional(),
  /** Budgets of providers (LiteLLM's budget routing): a provider whose budget is spent serves no calls until its window ends. */
  provider_budget_config: z.record(str, routerBudget).optional(),
  /** Model groups that may answer each other's requests from the response cache (LiteLLM's list of tuples). */
  caching_groups: z.array(z.array(str).min(2, 'a caching group names at least two model groups')).optional(),
  /** Calls in flight at once to each deployment that sets no `max_parallel_requests` of its own (router/claim-deployment.ts). */
  default_max_parallel_requests: posInt.optional(),
  /** litellm_params every deployment takes where it sets none (default-params.ts: applied when the config is validated). */
  default_litellm_params: z.record(str, z.unknown()).optional(),
  /** LiteLLM's pre-call checks (router/affinity.ts, encrypted-affinity.ts, header-groups.ts; enforce_model_rate_limits in route-call.ts). */
  optional_pre_call_checks: z.array(preCallCheck, { error: 'expected a list of pre-call checks' }).optional(),
  /** How long a session or key stays pinned to the deployment that served it (seconds; LiteLLM's default 3600). */
  deployment_affinity_ttl_seconds: posInt.optional(),
  /** Per model group: which of session_affinity, deployment_affinity, encrypted_content_affinity, responses_api_deployment_check apply (over optional_pre_call_checks; forward_client_headers_by_model_group is warned about: no effect). */
  model_group_affinity_config: z.record(str, z.array(preCallCheck)).optional(),
  redis_host: str.optional(),
  redis_port: posInt.optional(),
  redis_password: str.optional(),
});
