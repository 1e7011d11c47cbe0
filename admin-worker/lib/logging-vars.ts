/**
 * The checks a key's or team's own logging variables for the standard loggers get before they are stored
 * (worker/telemetry/standard/dynamic-settings.ts): a value the admin Worker could never send with (a base URL
 * that is not http(s), a bucket name GCS refuses, a service account that is not a key's JSON) is a 400 now,
 * rather than payloads that wait in the queue until the dead-letter queue takes them.
 */
import { envRefName } from '../../worker/config/env-ref.ts';
import { isObject } from '../../worker/json.ts';
import { parseServiceAccount } from '../../worker/providers/vertex_ai/service-account.ts';
import { DYNAMIC_LOGGER_NAMES, DYNAMIC_LOGGER_VARS } from '../../worker/telemetry/standard/dynamic-settings.ts';
import { KEYED_LOGGERS, takesEnvKey, tokenUriProblem } from '../queues/callbacks/logger-owners.ts';
import { envText, type LoggerEnv } from '../queues/callbacks/loggers/types.ts';
import { badRequest } from './validation.ts';

/** GCS's bucket name rule, with LiteLLM's `bucket/folder` form. */
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/[^\s]*)?$/;

/** Variables sent as header values (Arize's `api_key` / `space_id`, LangSmith's `x-api-key`). */
const HEADER_VARS = new Set(['arize_api_key', 'arize_space_id', 'arize_space_key', 'langsmith_api_key']);
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** Why a value cannot be used, or undefined when it can. An `os.environ/NAME` is read when sending, so it passes here. */
function problem(field: string, value: unknown, env: LoggerEnv): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'must be a non-empty string';
  if (value.length > 16_384) return 'is too long';
  if (envRefName(value) !== undefined) return undefined;
  // Sent as a header value: fetch throws on anything else, so every export would fail and be retried to the dead-letter queue.
  if (HEADER_VARS.has(field) && !HEADER_SAFE.test(value)) return 'must be printable ASCII without line breaks (it is sent as a header)';
  if (field === 'langsmith_base_url' || field === 'posthog_api_url') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return 'must be an http(s) URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
    if (url.username || url.password) return 'must not carry credentials in the URL';
    // The logger's own path is appended to it (`/batch/`, `/api/v1/runs/batch`): a query or fragment would hide it.
    if (/[?#]/.test(value)) return 'must not have a query or fragment';
  }
  if (field === 'gcs_bucket_name' && !BUCKET.test(value.trim())) return 'must be a GCS bucket name (lowercase letters, digits, -, _, .), optionally followed by /folder';
  if (field === 'gcs_path_service_account') {
    // A Worker reads no files: the service account key's JSON itself, as GCS_PATH_SERVICE_ACCOUNT takes it.
    if (!value.trim().startsWith('{')) return "must be the service account key's JSON (a Worker reads no files) or an os.environ/ reference";
    try {
      parseServiceAccount(value);
    } catch {
      return "is not a service account key's JSON (needs client_email and private_key)";
    }
    const refused = tokenUriProblem(value, env);
    if (refused) return refused;
  }
  return undefined;
}

/**
 * A 400 for variables of logger `name` that are not its own, or that it cannot use. `shared` when the variables
 * are a team's single `callback_settings.callback_vars`, which holds every callback's: there another
 * callback's names pass.
 */
export function checkLoggerVars(name: string, vars: unknown, param: string, env: LoggerEnv, shared = false): void {
  const own = DYNAMIC_LOGGER_VARS[name];
  if (!own || vars === undefined || vars === null) return;
  if (!isObject(vars)) throw badRequest(`${param} must be an object`, param);
  for (const [field, value] of Object.entries(vars)) {
    if (!own.includes(field)) {
      if (shared) continue;
      throw badRequest(`${param}.${field} is not a variable of ${name}; it takes ${own.join(', ')}`, `${param}.${field}`);
    }
    const why = problem(field, value, env);
    // Never the value: it may be a secret.
    if (why) throw badRequest(`${param}.${field} ${why}`, `${param}.${field}`);
  }
}

/**
 * A 400 for arize variables that give only half of Arize's pair (a key without a space, or a space without a
 * key): every export with them would fail and be retried to the dead-letter queue, and since variables are
 * replaced whole, the other half could never be added later.
 */
export function checkArizePair(vars: unknown, param: string): void {
  if (!isObject(vars)) return;
  const key = vars.arize_api_key !== undefined && vars.arize_api_key !== null;
  const space = [vars.arize_space_id, vars.arize_space_key].some((v) => v !== undefined && v !== null);
  if (key === space) return;
  const missing = key ? 'arize_space_id' : 'arize_api_key';
  throw badRequest(`${param} must give arize_api_key and arize_space_id (or arize_space_key) together, or neither; ${missing} is missing`, `${param}.${missing}`);
}

/**
 * A 400 for settings of a logger that pairs an API key with its base URL (LangSmith, PostHog: logger-owners.ts
 * KEYED_LOGGERS) that no key could be sent with: a base URL that is not the environment's (LANGSMITH_BASE_URL,
 * POSTHOG_API_URL, else the logger's default) without an API key of its own, since the environment's is never
 * sent to a key's or team's URL; or, at the environment's URL (a project name alone), none of its own while the
 * environment's (LANGSMITH_API_KEY, POSTHOG_API_KEY) is not set. Either way every payload would wait in the queue
 * until the dead-letter queue takes it. Settings without any of the logger's variables send to the config's
 * destination, and an `os.environ/` URL is read when sending, so both pass here (the latter held then, should it
 * name another host without a key).
 */
export function checkKeyedPair(name: string, vars: unknown, param: string, env: LoggerEnv): void {
  const logger = KEYED_LOGGERS[name];
  if (!logger || !isObject(vars)) return;
  const given = (field: string): string | undefined => (typeof vars[field] === 'string' && vars[field].trim() !== '' ? vars[field] : undefined);
  if (!DYNAMIC_LOGGER_VARS[name]!.some((field) => given(field) !== undefined) || given(logger.keyVar) !== undefined) return;
  const url = given(logger.urlVar);
  if (url !== undefined && envRefName(url) !== undefined) return;
  const envKey = logger.keyVar.toUpperCase();
  if (url !== undefined && !takesEnvKey(url, env, logger)) {
    throw badRequest(`${param}.${logger.urlVar} is not the gateway's ${logger.urlVar.toUpperCase()}, so it needs a ${logger.keyVar} of its own: the gateway's is sent only to its own URL`, `${param}.${logger.keyVar}`);
  }
  if (envText(env, envKey) === undefined) {
    throw badRequest(`${param} needs a ${logger.keyVar}: the gateway's ${envKey} is not set`, `${param}.${logger.keyVar}`);
  }
}

/**
 * checkArizePair and checkKeyedPair for every arize, langsmith and posthog entry of key or team metadata, and
 * its `callback_settings.callback_vars`.
 */
export function checkVarPairs(metadata: unknown, env: LoggerEnv): void {
  if (!isObject(metadata)) return;
  if (Array.isArray(metadata.logging)) {
    for (const [i, entry] of metadata.logging.entries()) {
      if (!isObject(entry)) continue;
      if (entry.callback_name === 'arize') checkArizePair(entry.callback_vars, `metadata.logging[${i}].callback_vars`);
      if (typeof entry.callback_name === 'string') checkKeyedPair(entry.callback_name, entry.callback_vars, `metadata.logging[${i}].callback_vars`, env);
    }
  }
  if (isObject(metadata.callback_settings)) {
    checkArizePair(metadata.callback_settings.callback_vars, 'metadata.callback_settings.callback_vars');
    for (const name of Object.keys(KEYED_LOGGERS)) checkKeyedPair(name, metadata.callback_settings.callback_vars, 'metadata.callback_settings.callback_vars', env);
  }
}

/** The callback a variable with key/team settings belongs to (langfuse_*, or a standard logger's), if any. */
const familyOf = (field: string): string | undefined => (field.startsWith('langfuse_') ? 'langfuse' : DYNAMIC_LOGGER_NAMES.find((n) => DYNAMIC_LOGGER_VARS[n]!.includes(field)));

/**
 * A 400 for a variable of another callback with key/team settings in a langfuse, langsmith, gcs_bucket, arize or posthog entry (a
 * langsmith_base_url in a langfuse entry): converting the list into the one shared `callback_settings.callback_vars`
 * (/team/{id}/callback, /disable_logging) would otherwise set it beside that callback's stored secret. Entries of
 * callbacks Tollgate runs no team settings for are never converted, and other unknown names are ignored, as LiteLLM does.
 */
function refuseForeignVars(name: string, vars: unknown, param: string): void {
  if (!isObject(vars) || !(name === 'langfuse' || DYNAMIC_LOGGER_VARS[name])) return;
  for (const field of Object.keys(vars)) {
    const family = familyOf(field);
    if (family !== undefined && family !== name) {
      throw badRequest(`${param}.${field} is not a variable of ${name}`, `${param}.${field}`);
    }
  }
}

/**
 * A 400 for key or team metadata whose `logging` entries (or `callback_settings`) hold variables a standard
 * logger with key/team settings cannot use. Callbacks without such settings are left to their own checks.
 * `pairs` false when `metadata` is only what an update changed (the masks sent back left out): its caller checks
 * the pairs (Arize's key and space, LangSmith's and PostHog's URL and key) on the whole of it (checkVarPairs).
 */
export function checkLoggingMetadata(metadata: unknown, env: LoggerEnv, pairs = true): void {
  if (!isObject(metadata)) return;
  if (Array.isArray(metadata.logging)) {
    const seen = new Set<string>();
    for (const [i, entry] of metadata.logging.entries()) {
      if (!isObject(entry) || typeof entry.callback_name !== 'string') continue;
      // The entries of one callback are merged when sending: a second one could point the first one's secret elsewhere.
      if (DYNAMIC_LOGGER_VARS[entry.callback_name] && seen.has(entry.callback_name)) {
        throw badRequest(`metadata.logging[${i}]: ${entry.callback_name} is named twice; give it one entry`, `metadata.logging[${i}].callback_name`);
      }
      seen.add(entry.callback_name);
      refuseForeignVars(entry.callback_name, entry.callback_vars, `metadata.logging[${i}].callback_vars`);
      checkLoggerVars(entry.callback_name, entry.callback_vars, `metadata.logging[${i}].callback_vars`, env);
    }
  }
  const settings = metadata.callback_settings;
  if (isObject(settings) && isObject(settings.callback_vars)) {
    for (const name of Object.keys(DYNAMIC_LOGGER_VARS)) {
      const own = Object.fromEntries(Object.entries(settings.callback_vars).filter(([k]) => DYNAMIC_LOGGER_VARS[name]!.includes(k)));
      checkLoggerVars(name, own, 'metadata.callback_settings.callback_vars', env, true);
    }
  }
  if (pairs) checkVarPairs(metadata, env);
}
