/**
 * LiteLLM's key and team based logging, read one way for every callback that takes per-call credentials
 * (Langfuse, and the standard loggers of worker/telemetry/standard/dynamic-settings.ts): a key's or team's
 * `metadata.logging` (`[{callback_name, callback_type, callback_vars}]`), or a team's older
 * `metadata.callback_settings` (`{success_callback, failure_callback, callbacks, callback_vars}`, written by
 * `/team/{id}/callback`). Both the gateway (whose settings a call goes with) and the admin Worker (which
 * variables it posts with) read them here, so they never disagree.
 */

/**
 * Each callback's variables, by LiteLLM's names (its StandardCallbackDynamicParams): only these are read
 * for the callback, out of the one `callback_vars` a team's callbacks share.
 */
export const CALLBACK_VARS: Readonly<Record<string, readonly string[]>> = {
  langfuse: ['langfuse_public_key', 'langfuse_secret_key', 'langfuse_host'],
  langsmith: ['langsmith_api_key', 'langsmith_project', 'langsmith_base_url'],
  gcs_bucket: ['gcs_bucket_name', 'gcs_path_service_account'],
  // No endpoint among them: an owner's spans go to the environment's ARIZE_HTTP_ENDPOINT / ARIZE_ENDPOINT.
  arize: ['arize_api_key', 'arize_space_key', 'arize_space_id'],
  // The project API key goes in the batch's body (PostHog's capture API), the URL is the capture host.
  posthog: ['posthog_api_key', 'posthog_api_url'],
};

/** Other names LiteLLM reads a variable under, when its own name is unset: `langfuse_secret` for the secret key. */
export const CALLBACK_VAR_ALIASES: Readonly<Record<string, string>> = { langfuse_secret_key: 'langfuse_secret' };

export interface OwnerLoggingSettings {
  success: boolean;
  failure: boolean;
  /** The callback's variables as stored (maybe `os.environ/NAME`), by their own names (aliases folded): non-empty text only. */
  vars: Record<string, string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The variables of `name` among `v`, each under its own name, else its alias. */
function varsOf(name: string, v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const field of CALLBACK_VARS[name] ?? []) {
    const alias = CALLBACK_VAR_ALIASES[field];
    const value = text(v[field]) ?? (alias ? text(v[alias]) : undefined);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** `logging` entries naming the callback; callback_type unset (or null) means success and failure, as in LiteLLM. */
function fromLoggingList(name: string, list: unknown[]): OwnerLoggingSettings | undefined {
  let found: OwnerLoggingSettings | undefined;
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

/** The callback's settings in a key's metadata (`logging` only; a key has no `callback_settings`), if any. */
export function keyCallbackSettings(name: string, metadata: unknown): OwnerLoggingSettings | undefined {
  if (!isObject(metadata) || !Array.isArray(metadata.logging)) return undefined;
  return fromLoggingList(name, metadata.logging);
}

/**
 * The callback's settings in a team's metadata: `logging`, else `callback_settings`. There the callback is on
 * for the events whose lists name it (`callbacks` counts for both). Variables without any list (a
 * `/team/update` may store `callback_vars` alone) still count, off but with their own destination: LiteLLM
 * unpacks a team's `callback_vars` into every call of the team, so the config's own callback of that name
 * sends the team's calls there. Lists that do not name the callback (what `/team/{id}/disable_logging` leaves:
 * empty lists, variables kept) hold none for it: the team's own callbacks are off, its stored variables send
 * nothing anywhere, and the config's callback logs its calls to the config's destination.
 */
export function teamCallbackSettings(name: string, metadata: unknown): OwnerLoggingSettings | undefined {
  if (!isObject(metadata)) return undefined;
  if (Array.isArray(metadata.logging)) return fromLoggingList(name, metadata.logging);
  const settings = metadata.callback_settings;
  if (!isObject(settings)) return undefined;
  const listed = (v: unknown) => Array.isArray(v) && v.includes(name);
  const success = listed(settings.success_callback) || listed(settings.callbacks);
  const failure = listed(settings.failure_callback) || listed(settings.callbacks);
  const lists = [settings.success_callback, settings.failure_callback, settings.callbacks].some(Array.isArray);
  if (lists && !success && !failure) return undefined;
  const vars = varsOf(name, settings.callback_vars);
  if (!success && !failure && Object.keys(vars).length === 0) return undefined;
  return { success, failure, vars };
}
