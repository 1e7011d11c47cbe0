/**
 * config.yaml's `general_settings` (LiteLLM's): the master key and database, spend logs, alerting, the
 * proxy-wide budget, request rules, authentication (keys, JWTs, client addresses) and pass-through endpoints.
 */
import { z } from 'zod';
import { bool, duration, nonNegative, posInt, str, strList } from './fields.ts';
import { jwtAuthSchema, rolePermissionsSchema } from './jwt-schema.ts';
import { passThroughEndpointSchema } from './pass-through-schema.ts';
import { parseRange } from '../auth/client-ip.ts';
import { publicRouteRefusal } from '../auth/public-routes.ts';
import { keyManagementSettingsSchema, keyManagementSystemSchema } from '../secrets/settings.ts';

export const generalSettingsSchema = z.object({
  master_key: str.startsWith('sk-', 'must start with "sk-"').optional(),
  database_url: str.optional(),
  store_model_in_db: bool.optional(),
  store_prompts_in_spend_logs: bool.optional(),
  /** Search tools are opt-in: a key (and its team) calls only those its `object_permission.search_tools` lists (LiteLLM's; search/access.ts). */
  search_tool_deny_by_default: bool.optional(),
  disable_spend_logs: bool.optional(),
  /** No spend-log row for a failed call that cost nothing (LiteLLM's; worker/telemetry/spend-log.ts). */
  disable_error_logs: bool.optional(),
  /** The spend-log consumer writes nothing: no rows, rollups or entity spend (LiteLLM's; admin-worker/queues/spend-logs.ts). */
  disable_spend_updates: bool.optional(),
  maximum_spend_logs_retention_period: duration.optional(),
  maximum_spend_logs_retention_interval: duration.optional(),
  alerting: z.array(z.enum(['slack', 'email', 'webhook', 'pagerduty'])).optional(),
  alerting_threshold: nonNegative.optional(),
  /** PagerDuty's thresholds (LiteLLM's AlertingConfig; worker/telemetry/alerts/pagerduty.ts). */
  alerting_args: z.object({
    failure_threshold: posInt.refine((n) => n >= 1, 'must be at least 1').optional(),
    failure_threshold_window_seconds: nonNegative.refine((n) => n > 0, 'must be a positive number of seconds').optional(),
    hanging_threshold_seconds: nonNegative.optional(),
    hanging_threshold_fails: posInt.refine((n) => n >= 1, 'must be at least 1').optional(),
    hanging_threshold_window_seconds: nonNegative.refine((n) => n > 0, 'must be a positive number of seconds').optional(),
  }).optional(),
  alert_types: strList.optional(),
  /** How often the spend report goes to Slack, in days (`"7d"`, LiteLLM's default; `"7D"`, `"07d"` as LiteLLM reads them; admin-worker/jobs/spend-report.ts). */
  spend_report_frequency: str.regex(/^0*[1-9]\d*[dD]$/, 'expected a number of days like "1d", "7d" or "30d" (LiteLLM takes days only)').optional(),
  budget_duration: duration.optional(),
  max_budget: nonNegative.optional(),
  /** Model calls in flight at once through the whole proxy, across every isolate (proxy/global-slot.ts); beyond it, a 429. */
  global_max_parallel_requests: posInt.optional(),
  redact_messages_in_exceptions: bool.optional(),
  max_request_size_mb: nonNegative.optional(),
  /** A model call's non-streamed answer larger than this is refused after the call (its spend kept; proxy/answer-size.ts). */
  max_response_size_mb: nonNegative.refine((mb) => mb > 0, 'must be a positive number of MB (leave it unset for no limit)').optional(),
  /** The admin Worker's scheduled budget reset does nothing (LiteLLM's; admin-worker/jobs/index.ts). */
  disable_reset_budget: bool.optional(),
  litellm_key_header_name: str.optional(),
  enforce_user_param: bool.optional(),
  /** Body fields every LLM call of a virtual key must carry (`user`, `metadata.generation_name`, ...), beside the key's own. */
  enforced_params: strList.optional(),
  /** Keys of service accounts (no user): fields their calls must carry. */
  service_account_settings: z.object({ enforced_params: strList.optional() }).optional(),
  /** Refuse tags a virtual key's call names itself (`metadata.tags`, `tags`, `x-litellm-tags`): tags come from keys and teams only. */
  reject_clientside_metadata_tags: bool.optional(),
  /** Pass the client's `x-` headers on to providers (worker/proxy/call-helpers.ts forwardedHeaders). */
  forward_client_headers_to_llm_api: bool.optional(),
  /** Pass the client's `OpenAI-Organization` header on (a deployment's own `organization` wins). */
  forward_openai_org_id: bool.optional(),
  /** Which of a call's tokens count against tpm limits (LiteLLM's; `total` by default). */
  token_rate_limit_type: z.enum(['input', 'output', 'total'], { error: 'expected one of input, output, total' }).optional(),
  /** Refuse keys without a team to everyone but proxy admins (LiteLLM's `default_team_disabled`). */
  default_team_disabled: bool.optional(),
  /** Routes a request without a key may call: read-only model and price routes only (worker/auth/public-routes.ts). */
  public_routes: z.array(str.superRefine((entry, ctx) => {
    const refusal = publicRouteRefusal(entry);
    if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
  }), { error: 'expected a list of routes' }).optional(),
  /** Routes only proxy admins may call, each an exact path as LiteLLM matches it (worker/auth/admin-only-routes.ts). */
  admin_only_routes: strList.optional(),
  /** Addresses (or CIDR ranges) every authenticated request must come from (worker/auth/client-ip.ts). */
  allowed_ips: z.array(str.refine((entry) => parseRange(entry) !== undefined, 'expected an IP address or a CIDR range like "10.0.0.0/8" or "2001:db8::/32"'), { error: 'expected a list of IP addresses' }).optional(),
  /** The client's address is the last X-Forwarded-For entry (a proxy of your own in front), not CF-Connecting-IP. */
  use_x_forwarded_for: bool.optional(),
  /** Callers may present an OpenID provider's JWT instead of a key (worker/auth/jwt-identity.ts). */
  enable_jwt_auth: bool.optional(),
  litellm_jwtauth: jwtAuthSchema.optional(),
  /** The models and routes each JWT role may call under `litellm_jwtauth.enforce_rbac` (worker/auth/jwt-permissions.ts). */
  role_permissions: rolePermissionsSchema.optional(),
  background_health_checks: bool.optional(),
  health_check_interval: nonNegative.optional(),
  proxy_batch_write_at: nonNegative.optional(),
  database_connection_pool_limit: posInt.optional(),
  user_api_key_cache_ttl: nonNegative.optional(),
  // Accepted and not needed on Tollgate's design (support.ts UNNEEDED_KEYS says why).
  allow_requests_on_db_unavailable: bool.optional(),
  fail_closed_budget_enforcement: bool.optional(),
  disable_master_key_return: bool.optional(),
  ui_access_mode: z.unknown().optional(),
  pass_through_endpoints: z.array(passThroughEndpointSchema).optional(),
  pass_through_request_timeout: nonNegative.optional(),
  /** Credentials an `os.environ/NAME` names that the environment lacks are read from this secret manager (worker/secrets/). */
  key_management_system: keyManagementSystemSchema.optional(),
  key_management_settings: keyManagementSettingsSchema.optional(),
});
