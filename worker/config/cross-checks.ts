/**
 * Warnings about what a valid config means (config.yaml's sections read against each other, and against the
 * gateway's routes): callbacks and alerting it does not serve, secrets compiled into the bundle, fallbacks naming
 * no group, budgets that never reset, guardrail modes, pass-through endpoints and MCP servers the gateway's own
 * routes shadow, router settings that are ignored (router-checks.ts).
 */
import { OTLP_VENDORS } from '../telemetry/otel/vendors.ts';
import { modesOf } from '../guardrails/schema.ts';
import { PASS_THROUGH_PREFIXES } from '../passthrough/providers.ts';
import { ADMIN_PREFIXES } from '../routes/admin-prefixes.ts';
import { AZURE_DOCUMENT_INTELLIGENCE } from './providers.ts';
import { routerSettingsChecks, unknownFallbackGroups, unusableFallbacks } from './router-checks.ts';
import type { TollgateConfig } from './schema.ts';
import { teamSettingsWarnings } from './team-settings-schema.ts';
import { s3CallbackWarnings } from './s3-callback-schema.ts';
import { sqsCallbackWarnings } from './sqs-callback-schema.ts';
import { interceptionWarnings } from '../websearch/settings.ts';
import { STANDARD_LOGGER_NAMES } from '../telemetry/standard/registry.ts';
import { MAX_TRACKED } from '../telemetry/alerts/pagerduty.ts';
import { EMAIL_CALLBACKS, emailCallbackWarnings, UNSERVED_CALLBACK_NOTES } from './email-callbacks.ts';

/** The first segments of the gateway's own routes (worker/app.ts, the admin Worker's, the providers' pass-through prefixes). */
const BUILT_IN_PREFIXES = [
  '/v1', '/v2', '/v1beta', '/openai', '/engines', '/chat', '/completions', '/embeddings', '/images', '/audio', '/rerank', '/ocr', '/moderations',
  '/responses', '/files', '/batches', '/fine_tuning', '/vector_stores', '/videos', '/models', '/health', '/metrics', '/queue', '/utils', '/cost',
  '/realtime', '/guardrails', '/mcp', '/mcp-rest', '/interactions', '/__tollgate',
  ...Object.keys(PASS_THROUGH_PREFIXES),
  ...ADMIN_PREFIXES.map((p) => p.replace(/\/$/, '')),
];
/** The gateway's own GET routes at one exact path (worker/app.ts), which win over a pass-through endpoint there (or above them, with include_subpath). */
const EXACT_GET_ROUTES = ['/routes', '/test', '/public/model_hub', '/public/model_hub/info'];

/** Callbacks Tollgate serves (the standard loggers: generic_api, datadog, s3, langsmith, ...); LiteLLM has many more (azure_storage, ...). */
const SUPPORTED_CALLBACKS = new Set(['langfuse', 'prometheus', 'otel', 'langfuse_otel', 'arize_phoenix', 'arize', ...OTLP_VENDORS, 'websearch_interception', ...STANDARD_LOGGER_NAMES, ...EMAIL_CALLBACKS]);

export function crossReferenceWarnings(config: TollgateConfig): string[] {
  const out: string[] = [];
  const l = config.litellm_settings;
  for (const [field, list] of [['success_callback', l.success_callback], ['failure_callback', l.failure_callback], ['callbacks', l.callbacks]] as const) {
    for (const name of list ?? []) {
      const note = UNSERVED_CALLBACK_NOTES[name];
      if (note) out.push(`litellm_settings.${field}: callback "${name}" ${note}`);
      else if (!SUPPORTED_CALLBACKS.has(name)) out.push(`litellm_settings.${field}: callback "${name}" is not supported by Tollgate yet (ignored; supported: ${[...SUPPORTED_CALLBACKS].join(', ')})`);
    }
  }
  out.push(...emailCallbackWarnings(l));
  out.push(...interceptionWarnings(config));
  for (const name of l.service_callback ?? []) {
    if (name !== 'prometheus_system') out.push(`litellm_settings.service_callback: "${name}" is not supported by Tollgate yet (ignored; supported: prometheus_system)`);
  }
  out.push(...teamSettingsWarnings(l.default_team_settings));
  out.push(...s3CallbackWarnings(l.s3_callback_params, [l.callbacks, l.success_callback, l.failure_callback].some((list) => list?.includes('s3') || list?.includes('s3_v2'))));
  out.push(...sqsCallbackWarnings(l.aws_sqs_callback_params, [l.callbacks, l.success_callback, l.failure_callback].some((list) => list?.includes('aws_sqs'))));
  // Router settings accepted but ignored (router-checks.ts, shared with the row stored in the database).
  out.push(...routerSettingsChecks(config.router_settings, l).map(({ path, why }) => `router_settings.${path}: ${why}`));
  const litellmFallbacks = { context_window_fallbacks: l.context_window_fallbacks, content_policy_fallbacks: l.content_policy_fallbacks, default_fallbacks: l.default_fallbacks };
  out.push(...unusableFallbacks(litellmFallbacks).map(({ path, why }) => `litellm_settings.${path}: ${why}`));
  for (const kind of config.general_settings.alerting ?? []) {
    if (kind !== 'slack' && kind !== 'webhook' && kind !== 'pagerduty' && kind !== 'email') out.push(`general_settings.alerting: "${kind}" alerts are not supported by Tollgate yet (ignored; supported: slack, webhook, pagerduty, email)`);
  }
  // The budget alert emails go through LiteLLM's email callback (worker/telemetry/email/budget-settings.ts).
  if (config.general_settings.alerting?.includes('email') && ![l.callbacks, l.success_callback, l.failure_callback].some((list) => list?.some((name) => (EMAIL_CALLBACKS as readonly string[]).includes(name)))) {
    out.push('general_settings.alerting: "email" sends budget alert emails through an email callback, and litellm_settings.callbacks names none (resend_email or sendgrid_email): no budget emails will be sent');
  }
  // PagerDuty keeps at most MAX_TRACKED events per window: a larger threshold is counted as that many, said here.
  for (const name of ['failure_threshold', 'hanging_threshold_fails'] as const) {
    const n = config.general_settings.alerting_args?.[name];
    if (n !== undefined && n > MAX_TRACKED) out.push(`general_settings.alerting_args.${name}: ${n} is above Tollgate's limit of ${MAX_TRACKED} events per window (PagerDuty alerts at ${MAX_TRACKED})`);
  }
  // LiteLLM maps the token's roles only inside sync_user_role_and_teams: the role reaches its admin API as the stored user's.
  if (config.general_settings.litellm_jwtauth?.jwt_litellm_role_map?.length && config.general_settings.litellm_jwtauth.sync_user_role_and_teams !== true) {
    out.push('general_settings.litellm_jwtauth.jwt_litellm_role_map: has no effect without sync_user_role_and_teams, as in LiteLLM (the mapped role is the one written to the token\'s user): set sync_user_role_and_teams: true');
  }
  if (config.general_settings.litellm_jwtauth?.auto_register_map_existing_key) {
    out.push('general_settings.litellm_jwtauth.auto_register_map_existing_key: is not supported by Tollgate yet (ignored): auto_register mints a new key for each client, never reusing one its user already owns');
  }
  // Applied (env-vars.ts); a credential there is compiled into the Worker bundle, so it is named.
  for (const name of Object.keys(config.environment_variables ?? {})) {
    if (/KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL/i.test(name)) {
      out.push(`environment_variables.${name}: applied, but compiled into the Worker bundle in plain text; a secret (wrangler secret put, or the container's environment in-region) keeps it out`);
    }
  }
  out.push(...unknownFallbackGroups(config.router_settings, new Set(config.model_list.map((d) => d.model_name))));
  // Budget routing (limits/router-budgets.ts): a budget that never resets is named.
  for (const [provider, budget] of Object.entries(config.router_settings.provider_budget_config ?? {})) {
    const at = `router_settings.provider_budget_config.${provider}`;
    if (!budget.time_period && !budget.budget_duration) out.push(`${at}: no time_period: this budget never resets (LiteLLM requires one, e.g. 1d or 30d)`);
  }
  for (const [tag, budget] of Object.entries(config.litellm_settings.tag_budget_config ?? {})) {
    if (!budget.time_period && !budget.budget_duration) out.push(`litellm_settings.tag_budget_config.${tag}: no budget_duration: this budget never resets`);
  }
  const mcpNames = Object.keys(config.mcp_servers ?? {});
  for (const name of mcpNames) {
    const twin = mcpNames.find((other) => other !== name && other.toLowerCase() === name.toLowerCase());
    if (twin && name < twin) out.push(`mcp_servers.${name}: differs from ${twin} only in case: a user's own credential (x-mcp-<server>-authorization) names neither, and is ignored`);
  }
  for (const [name, server] of Object.entries(config.mcp_servers ?? {})) {
    if (server.transport === 'stdio') out.push(`mcp_servers.${name}: transport stdio is not served (a Worker starts no processes: run the server behind an HTTP endpoint, transport http or sse); its tools are not offered`);
    if (server.auth_type && server.auth_type !== 'none' && !server.auth_value) out.push(`mcp_servers.${name}: auth_type ${server.auth_type} without an auth_value: nothing is sent`);
    if (BUILT_IN_PREFIXES.includes(`/${name}`)) out.push(`mcp_servers.${name}: /${name}/mcp is under one of the gateway's own routes, which wins: reach this server at /mcp/${name}`);
    const shadowed = config.general_settings.pass_through_endpoints?.find((e) => e.path.replace(/\/+$/, '') === `/${name}/mcp`);
    if (shadowed) out.push(`mcp_servers.${name}: /${name}/mcp is also a pass-through endpoint's path: keys that may use this server reach the server there, others the endpoint`);
  }
  config.guardrails?.forEach((g, i) => {
    if (modesOf(g).includes('logging_only')) out.push(`guardrails[${i}] (${g.guardrail_name}): mode logging_only is not acted on (it masks only what is logged; Tollgate's guardrails run on calls)`);
  });
  config.general_settings.pass_through_endpoints?.forEach((e, i) => {
    const at = `general_settings.pass_through_endpoints[${i}] (${e.path})`;
    if (e.auth === false) out.push(`${at}: auth: false: anyone who reaches the gateway can call ${e.target} with this endpoint's headers, unlimited and unbudgeted`);
    const path = e.path.replace(/\/+$/, '');
    const shadowed = BUILT_IN_PREFIXES.find((p) => path === p || path.startsWith(`${p}/`));
    if (shadowed) out.push(`${at}: under ${shadowed}, one of the gateway's own routes: the gateway's route wins, so requests it serves never reach this endpoint`);
    const exact = shadowed ? undefined : EXACT_GET_ROUTES.find((r) => r === path || (e.include_subpath === true && r.startsWith(`${path}/`)));
    if (exact) out.push(`${at}: GET ${exact} is one of the gateway's own routes: the gateway's route wins, so GET requests to it never reach this endpoint`);
  });
  config.model_list.forEach((d, i) => {
    const p = d.litellm_params;
    if (/^azure_ai\//.test(p.model) && AZURE_DOCUMENT_INTELLIGENCE.test(p.model)) {
      out.push(`model_list[${i}].litellm_params.model: ${p.model} is Azure Document Intelligence, which Tollgate does not serve (its calls are refused with a 400; azure_ai/ serves Mistral Document AI's OCR only)`);
    }
    if (p.budget_duration !== undefined && p.max_budget === undefined) out.push(`model_list[${i}].litellm_params.budget_duration: no max_budget beside it (ignored)`);
    if (p.max_budget !== undefined && p.budget_duration === undefined) out.push(`model_list[${i}].litellm_params.max_budget: no budget_duration: this deployment's budget never resets`);
  });
  // An admin-only route is for proxy admins, who call with a key: a request without one is refused there (403).
  const adminOnly = new Set(config.general_settings.admin_only_routes ?? []);
  for (const route of config.general_settings.public_routes ?? []) {
    if (adminOnly.has(route)) out.push(`general_settings.public_routes: ${route} is also one of admin_only_routes, which holds it: a request without a key there gets a 403`);
  }
  return out;
}

