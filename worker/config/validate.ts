import type { z } from 'zod';
import { collectEnvRefs, resolveEnvRefs } from './env-ref.ts';
import { configSchema, type TollgateConfig } from './schema.ts';
import { modesOf } from '../guardrails/schema.ts';
import { PASS_THROUGH_PREFIXES } from '../passthrough/providers.ts';
import { ADMIN_PREFIXES } from '../routes/admin-prefixes.ts';
import { configEnvVars } from './env-vars.ts';
import { applyConfigCredentials } from './credentials.ts';
import { PENDING_KEYS, UNNEEDED_KEYS } from './support.ts';
import { LITELLM_ERROR_CLASSES } from '../router/retry-policy.ts';
import { IMPLEMENTED_PROVIDERS, type ProviderId } from './providers.ts';

export type ConfigResult =
  | { ok: true; config: TollgateConfig; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

/** `['model_list', 2, 'litellm_params']` → `model_list[2].litellm_params` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/**
 * Checks a parsed config.yaml. `env` resolves `os.environ/NAME` values: the
 * Worker's env at start, the shell's at compile time. Every problem is listed
 * by path; nothing throws.
 */
export function validateConfig(raw: unknown, env: Record<string, unknown>): ConfigResult {
  const warnings: string[] = [];
  if (raw === null || raw === undefined) raw = {};
  // `os.environ/NAME` finds config.yaml's environment_variables too, under the environment's own (env-vars.ts).
  const lookup = { ...configEnvVars(raw), ...env };
  const resolved = resolveEnvRefs(raw, lookup, '', (path) => PASS_THROUGH_HEADERS.test(path));
  for (const m of resolved.missing) warnings.push(`${m.path}: os.environ/${m.name} is not set`);

  // Deployments take their credential_list credential's values before they are checked (credentials.ts).
  const credentialed = applyConfigCredentials(resolved.value);
  warnings.push(...credentialed.warnings);
  warnings.push(...unknownKeyWarnings(credentialed.value, configSchema, []));
  warnings.push(...settingWarnings(raw));
  const parsed = configSchema.safeParse(credentialed.value);
  if (!parsed.success || credentialed.errors.length) {
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => describeIssue(i, credentialed.value, resolved.value));
    return { ok: false, errors: [...credentialed.errors, ...issues], warnings };
  }
  warnings.push(...crossReferenceWarnings(parsed.data));
  // A header's reference (whole, or inside `Bearer os.environ/NAME`) is read per call; one not set fails those calls.
  parsed.data.general_settings.pass_through_endpoints?.forEach((e, i) => {
    for (const [header, value] of Object.entries(e.headers ?? {})) {
      for (const name of collectEnvRefs(value)) {
        if (lookup[name] === undefined || lookup[name] === '') warnings.push(`general_settings.pass_through_endpoints[${i}].headers.${header}: os.environ/${name} is not set (calls to ${e.path} fail until it is)`);
      }
    }
  });
  return { ok: true, config: parsed.data, warnings };
}

// Pass-through endpoints' headers keep their `os.environ/` references: each call reads them (config-pass-through.ts).
const PASS_THROUGH_HEADERS = /^general_settings\.pass_through_endpoints\[\d+\]\.headers\./;

/** The first segments of the gateway's own routes (worker/app.ts, the admin Worker's, the providers' pass-through prefixes). */
const BUILT_IN_PREFIXES = [
  '/v1', '/v2', '/v1beta', '/openai', '/engines', '/chat', '/completions', '/embeddings', '/images', '/audio', '/rerank', '/moderations',
  '/responses', '/files', '/batches', '/models', '/health', '/metrics', '/queue', '/utils', '/realtime', '/guardrails', '/mcp', '/__tollgate',
  ...Object.keys(PASS_THROUGH_PREFIXES),
  ...ADMIN_PREFIXES.map((p) => p.replace(/\/$/, '')),
];

function describeIssue(issue: z.core.$ZodIssue, input: unknown, beforeCredentials: unknown): string {
  let message = issue.message;
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) message = 'is required';
  // A value a deployment took from its credential is named as the credential's.
  const [list, i, params, field] = issue.path;
  if (list === 'model_list' && params === 'litellm_params' && field !== undefined && valueAt(beforeCredentials, issue.path.slice(0, 4)) === undefined) {
    const credential = valueAt(input, ['model_list', i!, 'litellm_params', 'litellm_credential_name']);
    if (typeof credential === 'string') message += ` (from credential_list's "${credential}")`;
  }
  return `${formatPath(issue.path)}: ${message}`;
}

function settingWarnings(raw: unknown): string[] {
  const out: string[] = [];
  if (!raw || typeof raw !== 'object') return out;
  for (const [path, why] of [...Object.entries(PENDING_KEYS), ...Object.entries(UNNEEDED_KEYS)]) {
    const [section, key] = path.split('.') as [string, string];
    const block = (raw as Record<string, unknown>)[section];
    if (block && typeof block === 'object' && key in block) out.push(`${path}: ${why}`);
  }
  // routing_strategy_args: lowest_latency_buffer is acted on; LiteLLM's other strategy arguments are not.
  const strategyArgs = (raw as { router_settings?: { routing_strategy_args?: unknown } }).router_settings?.routing_strategy_args;
  if (strategyArgs && typeof strategyArgs === 'object') {
    for (const key of Object.keys(strategyArgs)) {
      if (key !== 'lowest_latency_buffer') out.push(`router_settings.routing_strategy_args.${key}: not acted on yet (of the strategy arguments only lowest_latency_buffer is)`);
    }
  }
  // Tollgate always checks context windows before a call: `true` is what it does, `false` is not.
  if ((raw as { router_settings?: Record<string, unknown> }).router_settings?.enable_pre_call_checks === false) {
    out.push('router_settings.enable_pre_call_checks: always on in Tollgate: a deployment whose known context window the prompt ' +
      '(estimated at 4 characters a token) does not fit is skipped before the call, and context_window_fallbacks apply');
  }
  const cache = (raw as { litellm_settings?: { cache_params?: Record<string, unknown> } }).litellm_settings?.cache_params;
  if (cache && cache.type === 'redis' && ('host' in cache || 'port' in cache) && !('url' in cache)) {
    out.push('litellm_settings.cache_params: Redis is reached over its REST API (Upstash), not host/port/password: ' +
      'set `url: https://<your-redis-rest-host>` and `token: os.environ/UPSTASH_REDIS_REST_TOKEN` (or the env vars ' +
      'UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN; in-region, `npm run redis:bridge` serves that API in front of ' +
      'a plain Redis). Until then the response cache is off');
  }
  return out;
}

/** Callbacks Tollgate serves; LiteLLM has many more (datadog, otel, s3, ...). */
const SUPPORTED_CALLBACKS = new Set(['langfuse', 'prometheus']);

function crossReferenceWarnings(config: TollgateConfig): string[] {
  const out: string[] = [];
  const l = config.litellm_settings;
  for (const [field, list] of [['success_callback', l.success_callback], ['failure_callback', l.failure_callback], ['callbacks', l.callbacks]] as const) {
    for (const name of list ?? []) {
      if (!SUPPORTED_CALLBACKS.has(name)) out.push(`litellm_settings.${field}: callback "${name}" is not supported by Tollgate yet (ignored; supported: langfuse, prometheus)`);
    }
  }
  for (const kind of config.general_settings.alerting ?? []) {
    if (kind !== 'slack' && kind !== 'webhook') out.push(`general_settings.alerting: "${kind}" alerts are not supported by Tollgate yet (ignored; supported: slack, webhook)`);
  }
  // Applied (env-vars.ts); a credential there is compiled into the Worker bundle, so it is named.
  for (const name of Object.keys(config.environment_variables ?? {})) {
    if (/KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL/i.test(name)) {
      out.push(`environment_variables.${name}: applied, but compiled into the Worker bundle in plain text; a secret (wrangler secret put, or the container's environment in-region) keeps it out`);
    }
  }
  const groups = new Set(config.model_list.map((d) => d.model_name));
  const wildcard = config.model_list.some((d) => d.model_name.includes('*'));
  const check = (list: Record<string, string[]>[] | undefined, where: string) => {
    list?.forEach((entry, i) => {
      for (const [group, targets] of Object.entries(entry)) {
        for (const name of [group, ...targets]) {
          if (!groups.has(name) && !wildcard) {
            out.push(`${where}[${i}]: model group "${name}" is not in model_list (it must be added through /model/new)`);
          }
        }
      }
    });
  };
  check(config.router_settings.fallbacks, 'router_settings.fallbacks');
  check(config.router_settings.context_window_fallbacks, 'router_settings.context_window_fallbacks');
  check(config.router_settings.content_policy_fallbacks, 'router_settings.content_policy_fallbacks');
  // Budget routing (limits/router-budgets.ts): a budget that can never apply, or never resets, is named.
  for (const [provider, budget] of Object.entries(config.router_settings.provider_budget_config ?? {})) {
    const at = `router_settings.provider_budget_config.${provider}`;
    if (!IMPLEMENTED_PROVIDERS.has(provider as ProviderId)) out.push(`${at}: not a provider Tollgate serves (ignored: no deployment's calls count in it; expected one of ${[...IMPLEMENTED_PROVIDERS].join(', ')})`);
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
  });
  config.model_list.forEach((d, i) => {
    const p = d.litellm_params;
    if (p.budget_duration !== undefined && p.max_budget === undefined) out.push(`model_list[${i}].litellm_params.budget_duration: no max_budget beside it (ignored)`);
    if (p.max_budget !== undefined && p.budget_duration === undefined) out.push(`model_list[${i}].litellm_params.max_budget: no budget_duration: this deployment's budget never resets`);
  });
  // LiteLLM's error classes, as retry_policy (`…Retries`) and allowed_fails_policy (`…AllowedFails`) name them.
  for (const [field, suffix] of [['retry_policy', 'Retries'], ['allowed_fails_policy', 'AllowedFails']] as const) {
    for (const key of Object.keys(config.router_settings[field] ?? {})) {
      if (!LITELLM_ERROR_CLASSES.some((c) => `${c}${suffix}` === key)) {
        out.push(`router_settings.${field}.${key}: not a LiteLLM error class (ignored; expected one of ${LITELLM_ERROR_CLASSES.map((c) => `${c}${suffix}`).join(', ')})`);
      }
    }
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; catchall?: z.ZodType; innerType?: z.ZodType;
  out?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType };

/** Keys the schema does not know. zod strips them; we report them instead of dropping them silently. */
function unknownKeyWarnings(value: unknown, schema: z.ZodType, path: PropertyKey[]): string[] {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch':
      return def.innerType ? unknownKeyWarnings(value, def.innerType, path) : [];
    case 'pipe':
      return def.out ? unknownKeyWarnings(value, def.out, path) : [];
    case 'array':
      return Array.isArray(value) && def.element
        ? value.flatMap((item, i) => unknownKeyWarnings(item, def.element as z.ZodType, [...path, i]))
        : [];
    case 'record':
      return value && typeof value === 'object' && def.valueType
        ? Object.entries(value).flatMap(([key, item]) => unknownKeyWarnings(item, def.valueType as z.ZodType, [...path, key]))
        : [];
    case 'object': {
      if (!value || typeof value !== 'object' || !def.shape) return [];
      const loose = def.catchall && (def.catchall as unknown as { _zod: { def: Def } })._zod.def.type !== 'never';
      const out: string[] = [];
      for (const [key, item] of Object.entries(value)) {
        const child = def.shape[key];
        if (child) out.push(...unknownKeyWarnings(item, child, [...path, key]));
        else if (!loose) out.push(`${formatPath([...path, key])}: not supported by Tollgate yet (ignored)`);
      }
      return out;
    }
    default:
      return [];
  }
}
