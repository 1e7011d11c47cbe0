import type { z } from 'zod';
import { collectEnvRefs, envRefName, resolveEnvRefs } from './env-ref.ts';
import { configSchema, type TollgateConfig } from './schema.ts';
import { crossReferenceWarnings } from './cross-checks.ts';
import { promptWarnings } from '../prompts/prompt-warnings.ts';
import { withLangfuseCredentials } from '../prompts/langfuse-credentials.ts';
import { configEnvVars } from './env-vars.ts';
import { applyConfigCredentials } from './credentials.ts';
import { applyDefaultParams, defaultParamsWarnings, rememberOwnParams } from './default-params.ts';
import { callbackSettingsWarnings, withCallbackSettings } from './callback-settings.ts';
import { PENDING_KEYS, UNNEEDED_KEYS } from './support.ts';
import { TEAM_SETTINGS_VARS } from './team-settings-schema.ts';
import { S3_CALLBACK_SECRET_VARS } from './s3-callback-schema.ts';
import { SQS_CALLBACK_SECRET_VARS } from './sqs-callback-schema.ts';
import { keepForSecretManager, markDeclaredSecrets } from '../secrets/settings.ts';
import { keyManagementWarnings } from '../secrets/warnings.ts';

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
  // A credential the environment lacks stays a reference when a secret manager holds it (worker/secrets/).
  const fromSecretManager = keepForSecretManager(raw, lookup);
  const keepRaw = (path: string, value: unknown) => PASS_THROUGH_HEADERS.test(path) || TEAM_SETTINGS_VARS.test(path) || S3_CALLBACK_SECRET_VARS.test(path) || SQS_CALLBACK_SECRET_VARS.test(path) || fromSecretManager?.(path, value) === true;
  const resolved = resolveEnvRefs(raw, lookup, '', keepRaw);
  for (const m of resolved.missing) warnings.push(`${m.path}: os.environ/${m.name} is not set`);
  warnings.push(...unsetTeamSettingsVars(raw, lookup));
  warnings.push(...keyManagementWarnings(raw, lookup));

  // Deployments take their credential_list credential's values before they are checked (credentials.ts).
  const credentialed = applyConfigCredentials(resolved.value);
  warnings.push(...credentialed.warnings);
  // Then router_settings.default_litellm_params where a deployment (or its credential) sets none (default-params.ts).
  const defaulted = applyDefaultParams(credentialed.value);
  warnings.push(...unknownKeyWarnings(credentialed.value, configSchema, []));
  warnings.push(...settingWarnings(raw));
  warnings.push(...defaultParamsWarnings((credentialed.value as { router_settings?: { default_litellm_params?: unknown } } | undefined)?.router_settings?.default_litellm_params));
  warnings.push(...callbackSettingsWarnings(credentialed.value));
  const parsed = configSchema.safeParse(defaulted);
  if (!parsed.success || credentialed.errors.length) {
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => describeIssue(i, defaulted, resolved.value, credentialed.value));
    return { ok: false, errors: [...credentialed.errors, ...issues], warnings };
  }
  rememberOwnModelParams(parsed.data, credentialed.value, defaulted);
  // Only these references are ever read from the secret manager (resolve.ts): not an admin-added model's.
  if (fromSecretManager) warnings.push(...markDeclaredSecrets(parsed.data.model_list, raw));
  const config = withCallbackSettings(parsed.data);
  warnings.push(...crossReferenceWarnings(config));
  // Langfuse prompts take LANGFUSE_* for what they do not set, as LiteLLM's client does (langfuse-credentials.ts).
  if (config.prompts) config.prompts = withLangfuseCredentials(config.prompts, lookup);
  warnings.push(...promptWarnings(config.prompts, raw));
  // A header's reference (whole, or inside `Bearer os.environ/NAME`) is read per call; one not set fails those calls.
  parsed.data.general_settings.pass_through_endpoints?.forEach((e, i) => {
    for (const [header, value] of Object.entries(e.headers ?? {})) {
      for (const name of collectEnvRefs(value)) {
        if (lookup[name] === undefined || lookup[name] === '') warnings.push(`general_settings.pass_through_endpoints[${i}].headers.${header}: os.environ/${name} is not set (calls to ${e.path} fail until it is)`);
      }
    }
  });
  return { ok: true, config, warnings };
}

/** Each checked deployment that took defaults remembers its params before them (/credentials copies only those). */
function rememberOwnModelParams(config: TollgateConfig, beforeDefaults: unknown, defaulted: unknown): void {
  const params = (value: unknown, i: number) => (value as { model_list?: { litellm_params?: Record<string, unknown> }[] }).model_list?.[i]?.litellm_params;
  config.model_list.forEach((entry, i) => {
    const own = params(beforeDefaults, i);
    if (own && own !== params(defaulted, i)) rememberOwnParams(entry.litellm_params, own);
  });
}

// Pass-through endpoints' headers keep their `os.environ/` references: each call reads them (config-pass-through.ts).
const PASS_THROUGH_HEADERS = /^general_settings\.pass_through_endpoints\[\d+\]\.headers\./;

/** default_team_settings' credentials stay `os.environ/` references (read when sent); one not set is still named. */
function unsetTeamSettingsVars(raw: unknown, lookup: Record<string, unknown>): string[] {
  const entries = (raw as { litellm_settings?: { default_team_settings?: unknown } } | undefined)?.litellm_settings?.default_team_settings;
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry: unknown, i) => Object.entries(entry && typeof entry === 'object' ? entry : {}).flatMap(([field, value]) => {
    const name = envRefName(value);
    const set = name !== undefined && lookup[name] !== undefined && lookup[name] !== '';
    return name !== undefined && !set && field.startsWith('langfuse_') ? [`litellm_settings.default_team_settings[${i}].${field}: os.environ/${name} is not set`] : [];
  }));
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, beforeCredentials: unknown, beforeDefaults: unknown): string {
  let message = issue.message;
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) message = 'is required';
  // A value a deployment took from its credential, or from the router's defaults, is named as theirs.
  const [list, i, params, field] = issue.path;
  const given = valueAt(input, issue.path.slice(0, 4)) !== undefined;
  if (list === 'model_list' && params === 'litellm_params' && field !== undefined && given && valueAt(beforeDefaults, issue.path.slice(0, 4)) === undefined) {
    message += ' (from router_settings.default_litellm_params)';
  } else if (list === 'model_list' && params === 'litellm_params' && field !== undefined && valueAt(beforeCredentials, issue.path.slice(0, 4)) === undefined) {
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
