import { z } from 'zod';
import { bool, duration, fallbackList, nonNegative, num, posInt, str, strList } from './fields.ts';
import { parseModelRef } from './providers.ts';
import { guardrailSchema } from '../guardrails/schema.ts';
import { mcpServersSchema } from '../mcp/schema.ts';
import { searchToolsSchema } from '../search/schema.ts';
import { agentListSchema } from '../a2a/schema.ts';
import { keyGenerateBounds, keyGenerateDefaults, keyGenerationSettings } from './key-settings-schema.ts';
import { defaultTeamSettingsSchema } from './team-settings-schema.ts';
import { customMetadataLabelsSchema } from './metrics-labels-schema.ts';
import { generalSettingsSchema } from './general-settings-schema.ts';

export { generalSettingsSchema };

/** `litellm_params` of one deployment (`reference/litellm-compat.md` §2). */
export const litellmParamsSchema = z.object({
  model: str.superRefine((value, ctx) => {
    const ref = parseModelRef(value);
    if (!ref.ok) ctx.addIssue({ code: 'custom', message: ref.message });
  }),
  api_base: str.url('expected an http(s) URL').optional(),
  api_key: str.optional(),
  api_version: str.optional(),
  organization: str.optional(),
  rpm: posInt.optional(),
  tpm: posInt.optional(),
  weight: nonNegative.optional(),
  timeout: nonNegative.optional(),
  stream_timeout: nonNegative.optional(),
  max_retries: posInt.optional(),
  num_retries: posInt.optional(),
  /** Calls in flight at once to this deployment, across every isolate (router/claim-deployment.ts). */
  max_parallel_requests: posInt.optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  cache_read_input_token_cost: nonNegative.optional(),
  cache_creation_input_token_cost: nonNegative.optional(),
  /** Image generation: the price of one image (LiteLLM's price-map field), on top of any token prices. */
  output_cost_per_image: nonNegative.optional(),
  /** Text to speech: the price of one character of input (LiteLLM's price-map field). */
  input_cost_per_character: nonNegative.optional(),
  /** Transcription: the price of one second of audio (LiteLLM's price-map field). */
  input_cost_per_second: nonNegative.optional(),
  /** Rerank: the price of one search (LiteLLM's price-map field). */
  input_cost_per_query: nonNegative.optional(),
  /** OCR: the price of one page processed (LiteLLM's price-map field). */
  ocr_cost_per_page: nonNegative.optional(),
  /** Video generation: the price of one second of video made (LiteLLM's `output_cost_per_video_per_second` too). */
  output_cost_per_second: nonNegative.optional(),
  output_cost_per_video_per_second: nonNegative.optional(),
  /** Realtime: the price of an audio token in and out (LiteLLM's price-map fields). */
  input_cost_per_audio_token: nonNegative.optional(),
  output_cost_per_audio_token: nonNegative.optional(),
  /** Containers: the price of one 1 GB code interpreter session (LiteLLM's price-map field; routes/container-objects.ts). */
  code_interpreter_cost_per_session: nonNegative.optional(),
  mock_response: str.optional(),
  tags: strList.optional(),
  region_name: str.optional(),
  aws_access_key_id: str.optional(),
  aws_secret_access_key: str.optional(),
  aws_session_token: str.optional(),
  aws_region_name: str.optional(),
  vertex_project: str.optional(),
  vertex_location: str.optional(),
  vertex_credentials: str.optional(),
  extra_headers: z.record(str, str).optional(),
  /** A budget of this deployment (LiteLLM's budget routing): once spent, the router sends its calls elsewhere. */
  max_budget: nonNegative.optional(),
  budget_duration: duration.optional(),
  /** This deployment's credential (and api_base) serves its provider's pass-through route (`/anthropic/...`) for any model. */
  use_in_pass_through: bool.optional(),
  /** A credential_list entry (or a /credentials one) whose values this deployment takes where it sets none (worker/config/credentials.ts). */
  litellm_credential_name: str.min(1, 'must not be empty').optional(),
});

/** `model_info`: known fields are checked, any other key is kept (LiteLLM returns them from /model/info). */
export const modelInfoSchema = z.looseObject({
  id: str.optional(),
  mode: z.enum(['chat', 'completion', 'embedding', 'image_generation', 'audio_transcription', 'audio_speech', 'rerank', 'moderation', 'batch', 'realtime', 'responses', 'video_generation', 'ocr']).optional(),
  base_model: str.optional(),
  access_groups: strList.optional(),
  max_tokens: posInt.optional(),
  max_input_tokens: posInt.optional(),
  max_output_tokens: posInt.optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  cache_read_input_token_cost: nonNegative.optional(),
  cache_creation_input_token_cost: nonNegative.optional(),
  output_cost_per_image: nonNegative.optional(),
  input_cost_per_character: nonNegative.optional(),
  input_cost_per_second: nonNegative.optional(),
  input_cost_per_query: nonNegative.optional(),
  ocr_cost_per_page: nonNegative.optional(),
  output_cost_per_second: nonNegative.optional(),
  output_cost_per_video_per_second: nonNegative.optional(),
  input_cost_per_audio_token: nonNegative.optional(),
  output_cost_per_audio_token: nonNegative.optional(),
  team_id: str.optional(),
});

export const deploymentSchema = z.object({
  model_name: str.min(1, 'must not be empty'),
  litellm_params: litellmParamsSchema,
  model_info: modelInfoSchema.optional(),
});

/**
 * One budget of LiteLLM's budget routing: `budget_limit` and `time_period`
 * (provider_budget_config's spelling) or `max_budget` and `budget_duration`
 * (tag_budget_config's); read as `{ maxBudget, duration }` by router-budgets.ts.
 */
const routerBudget = z.object({
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
  /** LiteLLM's pre-call checks (router/affinity.ts; enforce_model_rate_limits in route-call.ts); two are warned as not built (cross-checks.ts). */
  optional_pre_call_checks: z.array(preCallCheck, { error: 'expected a list of pre-call checks' }).optional(),
  /** How long a session or key stays pinned to the deployment that served it (seconds; LiteLLM's default 3600). */
  deployment_affinity_ttl_seconds: posInt.optional(),
  /** Per model group: which of session_affinity, deployment_affinity, responses_api_deployment_check apply (over optional_pre_call_checks). */
  model_group_affinity_config: z.record(str, z.array(preCallCheck)).optional(),
  redis_host: str.optional(),
  redis_port: posInt.optional(),
  redis_password: str.optional(),
});

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
  /** LiteLLM's reusable credentials, named by deployments' `litellm_credential_name`. */
  credential_list: z.array(z.object({
    credential_name: str.min(1, 'must not be empty'),
    credential_values: z.record(str, z.union([str, num, bool, z.record(str, str)]), { error: 'expected a mapping of litellm_params values' }),
    credential_info: z.looseObject({}).optional(),
  })).optional(),
}, { error: 'expected a mapping with model_list, router_settings, litellm_settings, general_settings' });

export type TollgateConfig = z.output<typeof configSchema>;
export type Deployment = z.output<typeof deploymentSchema>;
