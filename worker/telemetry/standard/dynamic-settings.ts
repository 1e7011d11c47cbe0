import type { Caller } from '../../auth/authenticate.ts';

/**
 * LiteLLM's "team/key based logging" for the standard loggers that take per-call credentials
 * (its StandardCallbackDynamicParams): a key's `metadata.logging` (`[{callback_name, callback_type,
 * callback_vars}]`), else its team's `metadata.logging`, else the team's older `metadata.callback_settings`
 * (`{success_callback, failure_callback, callback_vars}`, written by `/team/{id}/callback`). The variables
 * stay in Postgres: the gateway only says whose settings a payload goes with, and the admin Worker reads them
 * when it posts (admin-worker/queues/callbacks/logger-owners.ts).
 */
export const DYNAMIC_LOGGER_VARS: Readonly<Record<string, readonly string[]>> = {
  langsmith: ['langsmith_api_key', 'langsmith_project', 'langsmith_base_url'],
  gcs_bucket: ['gcs_bucket_name', 'gcs_path_service_account'],
};

/** Callback names whose key or team settings send a call to a destination of its own (besides langfuse). */
export const DYNAMIC_LOGGER_NAMES: readonly string[] = Object.keys(DYNAMIC_LOGGER_VARS);

export interface DynamicLoggerSettings {
  success: boolean;
  failure: boolean;
  /** This logger's variables as stored (maybe `os.environ/NAME`): only its own names, non-empty text. */
  vars: Record<string, string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** The variables of `name` among `v` (a shared `callback_vars` holds every callback's). */
function varsOf(name: string, v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const field of DYNAMIC_LOGGER_VARS[name] ?? []) {
    const value = v[field];
    if (typeof value === 'string' && value !== '') out[field] = value;
  }
  return out;
}

/** `logging` entries naming the logger; callback_type unset means success and failure (as in LiteLLM). */
function fromLoggingList(name: string, list: unknown[]): DynamicLoggerSettings | undefined {
  let found: DynamicLoggerSettings | undefined;
  for (const entry of list) {
    if (!isObject(entry) || entry.callback_name !== name) continue;
    found ??= { success: false, failure: false, vars: {} };
    const type = entry.callback_type ?? undefined;
    if (type === 'success' || type === 'success_and_failure' || type === undefined) found.success = true;
    if (type === 'failure' || type === 'success_and_failure' || type === undefined) found.failure = true;
    Object.assign(found.vars, varsOf(name, entry.callback_vars));
  }
  return found;
}

/** The logger's settings in a key's metadata (`logging` only), if any. */
export function keyLoggerSettings(name: string, metadata: unknown): DynamicLoggerSettings | undefined {
  if (!isObject(metadata) || !Array.isArray(metadata.logging)) return undefined;
  return fromLoggingList(name, metadata.logging);
}

/**
 * The logger's settings in a team's metadata: `logging`, else `callback_settings`, where the logger must be
 * listed (what `/team/{id}/disable_logging` empties turns it off, its variables kept for a later enable).
 */
export function teamLoggerSettings(name: string, metadata: unknown): DynamicLoggerSettings | undefined {
  if (!isObject(metadata)) return undefined;
  if (Array.isArray(metadata.logging)) return fromLoggingList(name, metadata.logging);
  const settings = metadata.callback_settings;
  if (!isObject(settings)) return undefined;
  const listed = (v: unknown) => Array.isArray(v) && v.includes(name);
  const success = listed(settings.success_callback) || listed(settings.callbacks);
  const failure = listed(settings.failure_callback) || listed(settings.callbacks);
  if (!success && !failure) return undefined;
  return { success, failure, vars: varsOf(name, settings.callback_vars) };
}

/** Whose settings a payload goes with: the key's (by its hashed token) or the team's. */
export type LoggerOwner = { key: string } | { team: string };

/**
 * Whose settings send this call to `name`, and whether they turn the logger on for it. As in LiteLLM, a key's
 * `metadata.logging` shadows its team's settings; settings with variables send the call to their own
 * destination instead of the config's (never to both); settings without any only turn the logger on, with the
 * config's destination. Costs two property reads for a key whose metadata and team hold no logging settings.
 */
export function loggerOwner(name: string, caller: Caller, failed: boolean): { on: boolean; owner?: LoggerOwner } {
  if (caller.kind !== 'key') return { on: false };
  const policy = caller.policy;
  const keyLogging = isObject(policy.metadata) && Array.isArray(policy.metadata.logging);
  if (keyLogging) return verdict(keyLoggerSettings(name, policy.metadata), failed, { key: policy.token });
  const team = policy.team;
  if (!team || !isObject(team.metadata) || !(Array.isArray(team.metadata.logging) || isObject(team.metadata.callback_settings))) return { on: false };
  return verdict(teamLoggerSettings(name, team.metadata), failed, { team: team.id });
}

function verdict(settings: DynamicLoggerSettings | undefined, failed: boolean, owner: LoggerOwner): { on: boolean; owner?: LoggerOwner } {
  if (!settings) return { on: false };
  const on = failed ? settings.failure : settings.success;
  return Object.keys(settings.vars).length > 0 ? { on, owner } : { on };
}

/** Per key policy (replaced whenever the key or its team changes): whether its settings turn on a dynamic logger. */
const dynamicOn = new WeakMap<object, boolean>();

/**
 * Whether the caller's key or team settings turn on a standard logger with key/team settings (langsmith,
 * gcs_bucket) for its calls, success or failure: only then is the call's text kept for one. Two property reads
 * for a caller holding no logging settings; worked out once per key policy otherwise (Langfuse-only settings, or
 * a team whose callbacks /disable_logging emptied, turn none on).
 */
export function callerHasLogging(caller: Caller): boolean {
  if (caller.kind !== 'key') return false;
  const { metadata, team } = caller.policy;
  const holds = (isObject(metadata) && Array.isArray(metadata.logging))
    || (!!team && isObject(team.metadata) && (Array.isArray(team.metadata.logging) || isObject(team.metadata.callback_settings)));
  if (!holds) return false;
  const known = dynamicOn.get(caller.policy);
  if (known !== undefined) return known;
  const on = DYNAMIC_LOGGER_NAMES.some((name) => loggerOwner(name, caller, false).on || loggerOwner(name, caller, true).on);
  dynamicOn.set(caller.policy, on);
  return on;
}
