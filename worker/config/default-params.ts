/**
 * `router_settings.default_litellm_params`: litellm_params every deployment takes where it sets none itself
 * (LiteLLM's router adds them to each call, "prioritize model-specific params > default router params").
 * Applied once, when the config is validated (and when a DB model is opened), so a call reads its
 * deployment's params and pays nothing for the defaults. Unlike LiteLLM's, credentials are defaulted as a group, and
 * only to the providers that read them (CREDENTIAL_GROUP, reaches).
 */
import { isObject, type Json } from '../json.ts';
import { parseModelRef, type ProviderId } from './providers.ts';

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

/**
 * Where and as whom a deployment calls. Defaulted together, and only to a deployment that (with its credential)
 * sets none of them: a default key must not be sent beside a deployment's own (Bedrock prefers an `api_key` to
 * its AWS key pair), nor a default session token mixed with its own key pair, nor a deployment's own key sent
 * to a default host (or a default key to its own host).
 */
const CREDENTIAL_GROUP: readonly string[] = ['api_key', 'api_base', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'vertex_credentials'];

/**
 * Whether a default field reaches a provider's deployments: AWS's fields Bedrock's (LiteLLM's SageMaker reads
 * them too; Tollgate has no SageMaker), Vertex AI's Vertex AI's. A default key and host reach neither: to
 * Bedrock an `api_key` is a Bedrock API key, preferred to AWS credentials, and a host would receive its signed
 * requests; Vertex AI calls with its service account.
 */
function reaches(field: string, provider: ProviderId | undefined): boolean {
  if (field.startsWith('aws_')) return provider === 'bedrock';
  if (field.startsWith('vertex_')) return provider === 'vertex_ai';
  if (field === 'api_key' || field === 'api_base') return provider !== 'bedrock' && provider !== 'vertex_ai';
  return true;
}

const isSet = (value: unknown) => value !== undefined && value !== null;

/** Defaulted params → the params as their deployment gave them (see ownParamsOf). */
const beforeDefaults = new WeakMap<object, Json>();

/** Records that `params` (as checked, so a new object) are `own` with defaults added. */
export function rememberOwnParams(params: object, own: Json): void {
  if (params !== own) beforeDefaults.set(params, own);
}

/**
 * A deployment's params as it (and its credential) gave them, before the router's defaults: what may be copied
 * to a stored credential. The params themselves when no default was added.
 */
export function ownParamsOf(params: object): Json {
  return beforeDefaults.get(params) ?? (params as Json);
}

/** `params` with each default it does not set and its provider reads (CREDENTIAL_GROUP as one); `extra_headers` merged, its own headers winning. */
export function withDefaultParams(params: Json, defaults: Json): Json {
  const ref = typeof params.model === 'string' ? parseModelRef(params.model) : undefined;
  const provider = ref?.ok ? ref.provider : undefined;
  const ownCredential = CREDENTIAL_GROUP.some((field) => isSet(params[field]));
  let out: Json | undefined;
  for (const [key, value] of Object.entries(defaults)) {
    if (!reaches(key, provider) || (ownCredential && CREDENTIAL_GROUP.includes(key))) continue;
    const own = params[key];
    if (!isSet(own)) (out ??= { ...params })[key] = value;
    else if (key === 'extra_headers' && isObject(own) && isObject(value)) (out ??= { ...params })[key] = { ...value, ...own };
  }
  if (!out) return params;
  rememberOwnParams(out, params);
  return out;
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
