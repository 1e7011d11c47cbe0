import { z } from 'zod';
import { bool, duration, fallbackList, nonNegative, num, posInt, str, strList } from './fields.ts';
import { guardrailSchema } from '../guardrails/schema.ts';
import { mcpServersSchema } from '../mcp/schema.ts';
import { searchToolsSchema } from '../search/schema.ts';
import { agentListSchema } from '../a2a/schema.ts';
import { promptsSchema } from '../prompts/schema.ts';
import { keyGenerateBounds, keyGenerateDefaults, keyGenerationSettings } from './key-settings-schema.ts';
import { defaultTeamSettingsSchema } from './team-settings-schema.ts';
import { s3CallbackParamsSchema } from './s3-callback-schema.ts';
import { sqsCallbackParamsSchema } from './sqs-callback-schema.ts';
import { customMetadataLabelsSchema } from './metrics-labels-schema.ts';
import { generalSettingsSchema } from './general-settings-schema.ts';

import { deploymentSchema, litellmParamsSchema } from './deployment-schema.ts';
import { routerBudget, routerSettingsSchema } from './router-settings-schema.ts';

export { deploymentSchema, generalSettingsSchema, litellmParamsSchema };

export const cacheParamsSchema = z.object({
  type: z.enum(['local', 'redis'], { error: 'expected "local" or "redis" (Redis is reached over Upstash REST)' }).optional(),
  url: str.optional(),
  token: str.optional(),
  host: str.optional(),
  port: posInt.optional(),
  password: str.optional(),
  namespace: str.optional(),
  ttl: nonNegative.optional(),
  max_size: posInt.optional(),
  supported_call_types: z.array(z.enum(['acompletion', 'atext_completion', 'aembedding', 'completion', 'text_completion', 'embedding', 'aresponses', 'responses'])).optional(),
  mode: z.enum(['default_on', 'default_off']).optional(),
});

const callbackName = str;

/**
 * Settings of one callback (LiteLLM's `callback_settings.<name>`): `message_logging: false` keeps prompts and
 * answers out of that callback alone (callback-settings.ts).
 */
export const callbackSettingsSchema = z.record(str, z.object({ message_logging: bool.optional() }));

export const litellmSettingsSchema = z.object({
  drop_params: bool.optional(),
  /** Rewrite chat requests so strict providers (Anthropic, Bedrock) take them, as LiteLLM's `modify_params` (providers/modify-params/). */
  modify_params: bool.optional(),
  num_retries: posInt.optional(),
  request_timeout: nonNegative.optional(),
  success_callback: z.array(callbackName).optional(),
  failure_callback: z.array(callbackName).optional(),
  callbacks: z.array(callbackName).optional(),
  /** LiteLLM's service health callbacks: `prometheus_system` puts the response cache's Redis latency and failures on /metrics (metrics/services.ts). */
  service_callback: z.array(callbackName).optional(),
  turn_off_message_logging: bool.optional(),
  /** LiteLLM also takes these here (its proxy sets litellm.callback_settings from either place); this one wins. */
  callback_settings: callbackSettingsSchema.optional(),
  redact_user_api_key_info: bool.optional(),
  langfuse_default_tags: strList.optional(),
  cache: bool.optional(),
  cache_params: cacheParamsSchema.optional(),
  max_budget: nonNegative.optional(),
  budget_duration: duration.optional(),
  max_end_user_budget: nonNegative.optional(),
  timezone: str.optional(),
  default_fallbacks: strList.optional(),
  context_window_fallbacks: fallbackList.optional(),
  content_policy_fallbacks: fallbackList.optional(),
  store_audit_logs: bool.optional(),
  /** LiteLLM reads it here too; general_settings.redact_messages_in_exceptions is the other spelling. */
  redact_messages_in_exceptions: bool.optional(),
  /** Accepted and not needed (support.ts UNNEEDED_KEYS). */
  force_ipv4: bool.optional(),
  /** The Workers' own log lines as one JSON object each (LiteLLM's; worker/telemetry/log.ts). */
  json_logs: bool.optional(),
  /** Keep end users out of spend logs, their daily rollups and customers' spend (LiteLLM's); their budgets still hold. */
  disable_end_user_cost_tracking: bool.optional(),
  /** Budgets of request tags (LiteLLM's tag budgets): a call carrying a tag whose budget is spent is refused. */
  tag_budget_config: z.record(str, routerBudget).optional(),
  /** Values `/key/generate` gives a key that does not set them (LiteLLM's `default_key_generate_params`). */
  default_key_generate_params: keyGenerateDefaults.optional(),
  /** Ceilings on what a key may be given (LiteLLM's `upperbound_key_generate_params`); a field not set gets the ceiling. */
  upperbound_key_generate_params: keyGenerateBounds.optional(),
  /** Who besides proxy admins may create team and personal keys, and what they must set (LiteLLM's `key_generation_settings`). */
  key_generation_settings: keyGenerationSettings.optional(),
  /** The budget a user created without one gets (LiteLLM's `max_internal_user_budget`), and its window. */
  max_internal_user_budget: nonNegative.optional(),
  internal_user_budget_duration: duration.optional(),
  /** Of LiteLLM's defaults for new internal users, only `available_teams`: the teams `/team/available` offers. */
  default_internal_user_params: z.object({ available_teams: strList.optional() }).optional(),
  /** Teams' own Langfuse projects (LiteLLM's config-defined team-based logging; team-settings-schema.ts). */
  default_team_settings: defaultTeamSettingsSchema.optional(),
  /** Labels of the request-level Prometheus metrics taken from each call's metadata (metrics-labels-schema.ts). */
  custom_prometheus_metadata_labels: customMetadataLabelsSchema.optional(),
  /** Model groups `GET /public/model_hub` lists without a key (LiteLLM's); `/model_group/make_public` stores a list that wins. */
  public_model_groups: strList.optional(),
  /** `{title: url}` links `GET /public/model_hub/info` shows (LiteLLM's); `/model_hub/update_useful_links` stores ones that win. */
  public_model_groups_links: z.record(str, str).optional(),
  /** LiteLLM's per-group settings: the groups (or `*` patterns) whose calls pass the client's `x-` headers on (router/header-groups.ts). */
  model_group_settings: z.object({ forward_client_headers_to_llm_api: strList.optional() }).optional(),
  /** Send the caller's key hash, alias, user, team and org to providers as `x-litellm-user_api_key_*` headers (LiteLLM's; proxy/user-info-headers.ts). */
  add_user_information_to_llm_headers: bool.optional(),
  /** The `s3` callback's bucket, path and credentials (LiteLLM's; s3-callback-schema.ts). */
  s3_callback_params: s3CallbackParamsSchema.optional(),
  /** The `aws_sqs` callback's queue URL and credentials (LiteLLM's; sqs-callback-schema.ts). */
  aws_sqs_callback_params: sqsCallbackParamsSchema.optional(),
  /** The `websearch_interception` callback's settings (LiteLLM's; worker/websearch/settings.ts). */
  websearch_interception_params: z.object({
    enabled_providers: strList.optional(),
    search_tool_name: str.min(1, 'must not be empty').optional(),
    max_agentic_loops: posInt.refine((n) => n >= 1, 'must be at least 1').optional(),
  }).optional(),
});

export const configSchema = z.object({
  model_list: z.array(deploymentSchema, { error: 'expected a list of models' }).default([]),
  router_settings: routerSettingsSchema.default({}),
  litellm_settings: litellmSettingsSchema.default({}),
  general_settings: generalSettingsSchema.default({}),
  environment_variables: z.record(str, z.union([str, num, bool])).optional(),
  /** Per-callback settings, where LiteLLM documents them (top level); `litellm_settings.callback_settings` replaces them. */
  callback_settings: callbackSettingsSchema.optional(),
  /** LiteLLM's guardrails (guardrails/): checks of calls' input and answers by guardrail services. */
  guardrails: z.array(guardrailSchema).optional(),
  /** LiteLLM's MCP gateway: MCP servers whose tools `/mcp` offers (worker/mcp/). */
  mcp_servers: mcpServersSchema.optional(),
  /** LiteLLM's Search API: web search tools `/v1/search/{search_tool_name}` calls (worker/search/). */
  search_tools: searchToolsSchema.optional(),
  /** LiteLLM's A2A agents (worker/a2a/): served at `/a2a/{agent_id}` beside those stored through `/v1/agents`. */
  agent_list: agentListSchema.optional(),
  /** LiteLLM's config-onboarded prompts, which chat calls name by `prompt_id` (worker/prompts/). */
  prompts: promptsSchema.optional(),
  /** LiteLLM's reusable credentials, named by deployments' `litellm_credential_name`. */
  credential_list: z.array(z.object({
    credential_name: str.min(1, 'must not be empty'),
    credential_values: z.record(str, z.union([str, num, bool, z.record(str, str)]), { error: 'expected a mapping of litellm_params values' }),
    credential_info: z.looseObject({}).optional(),
  })).optional(),
}, { error: 'expected a mapping with model_list, router_settings, litellm_settings, general_settings' });

export type TollgateConfig = z.output<typeof configSchema>;
export type Deployment = z.output<typeof deploymentSchema>;
