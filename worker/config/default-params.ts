/**
 * `router_settings.default_litellm_params`: litellm_params every deployment takes where it sets none itself
 * (LiteLLM's router adds them to each call, "prioritize model-specific params > default router params").
 * Applied once, when the config is validated (and when a DB model is opened), so a call reads its
 * deployment's params and pays nothing for the defaults.
 */
import { isObject, type Json } from '../json.ts';

/**
 * Fields that may be defaulted: how and where a deployment calls its provider. LiteLLM's router reads a
 * deployment's routing fields (rpm, tpm, weight, tags, budgets, ...) from the deployment itself, and its
 * `model` always comes from the deployment, so defaults of those never act there either; prices would price
 * every model alike; a credential name is resolved per deployment when the config loads.
 */
export const DEFAULTABLE_FIELDS: readonly string[] = [
  'api_key', 'api_base', 'api_version', 'organization', 'timeout', 'stream_timeout', 'max_retries', 'num_retries',
  'region_name', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_region_name',
  'vertex_project', 'vertex_location', 'vertex_credentials', 'extra_headers', 'mock_response',
];

const WHY_NOT: Record<string, string> = {
  model: 'a deployment\'s model is its own',
  litellm_credential_name: 'name the credential on each deployment',
  metadata: 'Tollgate\'s deployments carry no call metadata',
};
const ROUTING = new Set(['rpm', 'tpm', 'weight', 'tags', 'max_parallel_requests', 'max_budget', 'budget_duration', 'use_in_pass_through', 'order']);

/** What every deployment takes from the config beside its own entry: the router's default params, and `modify_params`. */
export interface DeploymentDefaults {
  params: Json;
  modifyParams?: true;
}

/** A validated config's DeploymentDefaults (for DB models, opened after the config). */
export function deploymentDefaultsOf(config: { router_settings: { default_litellm_params?: unknown }; litellm_settings: { modify_params?: boolean } }): DeploymentDefaults {
  const params = defaultParamsOf(config.router_settings.default_litellm_params);
  return config.litellm_settings.modify_params === true ? { params, modifyParams: true } : { params };
}

/** The defaults that apply (DEFAULTABLE_FIELDS with a value), from the `os.environ/`-resolved setting. */
export function defaultParamsOf(setting: unknown): Json {
  if (!isObject(setting)) return {};
  const out: Json = {};
  for (const [key, value] of Object.entries(setting)) if (DEFAULTABLE_FIELDS.includes(key) && value !== null && value !== undefined) out[key] = value;
  return out;
}

/** Warnings naming each key the setting has that is not defaulted (never its value: it may be a secret). */
export function defaultParamsWarnings(setting: unknown): string[] {
  if (setting === undefined || setting === null) return [];
  const at = 'router_settings.default_litellm_params';
  if (!isObject(setting)) return [`${at}: expected a mapping of litellm_params (ignored)`];
  return Object.keys(setting).filter((key) => !DEFAULTABLE_FIELDS.includes(key)).map((key) => {
    const why = WHY_NOT[key] ?? (ROUTING.has(key) ? 'the router reads it from each deployment, as LiteLLM\'s does'
      : key.includes('cost_per') ? 'a default price would price every model alike' : 'not a field Tollgate defaults');
    return `${at}.${key}: ignored (${why}; defaulted: ${DEFAULTABLE_FIELDS.join(', ')})`;
  });
}

/** `params` with each default it does not set; `extra_headers` merged, its own headers winning. */
export function withDefaultParams(params: Json, defaults: Json): Json {
  let out: Json | undefined;
  for (const [key, value] of Object.entries(defaults)) {
    const own = params[key];
    if (own === undefined || own === null) (out ??= { ...params })[key] = value;
    else if (key === 'extra_headers' && isObject(own) && isObject(value)) (out ??= { ...params })[key] = { ...value, ...own };
  }
  return out ?? params;
}

/** config.yaml (resolved, credentials applied) with the defaults in every model_list entry's litellm_params. */
export function applyDefaultParams(config: unknown): unknown {
  if (!isObject(config) || !isObject(config.router_settings) || !Array.isArray(config.model_list)) return config;
  const defaults = defaultParamsOf(config.router_settings.default_litellm_params);
  if (!Object.keys(defaults).length) return config;
  const models = config.model_list.map((entry: unknown) => {
    if (!isObject(entry) || !isObject(entry.litellm_params)) return entry;
    const params = withDefaultParams(entry.litellm_params, defaults);
    return params === entry.litellm_params ? entry : { ...entry, litellm_params: params };
  });
  return { ...config, model_list: models };
}
