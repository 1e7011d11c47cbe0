/**
 * A team's logging callbacks as LiteLLM's team callback endpoints read and write them: the
 * callbacks listed (read as the gateway reads them), one added, and the shape stored in
 * `metadata.callback_settings`. Answers mask secrets with admin-worker/lib/secret-mask.ts.
 */
import { isObject, type Json } from '../../../worker/json.ts';
import { refuseMaskedVars } from '../../lib/secret-mask.ts';
import { badRequest } from '../../lib/validation.ts';
import type { TeamCallbackBody } from './schemas.ts';
import { checkArizePair, checkKeyedPair, checkLoggerVars } from '../../lib/logging-vars.ts';
import type { LoggerEnv } from '../../queues/callbacks/loggers/types.ts';
import { DYNAMIC_LOGGER_VARS } from '../../../worker/telemetry/standard/dynamic-settings.ts';

/** LiteLLM's TeamCallbackMetadata, as stored. */
export interface TeamCallbacks {
  success_callback: string[];
  failure_callback: string[];
  callback_vars: Record<string, string>;
}

/**
 * What the gateway does with a team's callback of each name (worker/telemetry/langfuse/logging-settings.ts).
 * LiteLLM takes any name, but a name Tollgate does not run per team would be a write that silently logs
 * nothing, so others are refused: `otel` among them, since the config's spans go to the deployment's
 * collector for every call and a team can neither add nor drop them.
 */
const SERVED: Record<string, string> = {
  langfuse: "the team's own Langfuse project (callback_vars), or the config's without them",
  langsmith: "the team's own LangSmith project (langsmith_api_key, langsmith_project, langsmith_base_url), or the config's without them",
  gcs_bucket: "the team's own GCS bucket (gcs_bucket_name, gcs_path_service_account), or the config's without them",
  arize: "the team's own Arize space (arize_api_key with arize_space_id or arize_space_key) at the config's endpoint, or the config's space without them",
  posthog: "the team's own PostHog project (posthog_api_key, posthog_api_url), or the config's without them",
};

/** Which variables are a callback's own, in the one `callback_vars` a team's callbacks share. */
const FAMILY: Record<string, RegExp> = { langfuse: /^langfuse_/, langsmith: /^langsmith_/, gcs_bucket: /^gcs_/, arize: /^arize_/, posthog: /^posthog_/ };
const ownVars = (name: string, vars: Record<string, string>) => Object.fromEntries(Object.entries(vars).filter(([k]) => FAMILY[name]?.test(k)));

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : []);
const addTo = (list: string[], name: string) => void (list.includes(name) || list.push(name));

/** A callback's variables as the gateway reads them (logging-settings.ts varsOf): non-empty text only. */
function stringVars(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

/**
 * The team's own callbacks (the config's run besides), read as the gateway reads them: its `metadata.logging` list
 * when it has one (each entry counted for its callback_type, both when unset), else
 * `callback_settings` (whose `callbacks` count for both events).
 */
export function teamCallbacks(metadata: unknown): TeamCallbacks {
  const out: TeamCallbacks = { success_callback: [], failure_callback: [], callback_vars: {} };
  if (!isObject(metadata)) return out;
  if (Array.isArray(metadata.logging)) {
    for (const entry of metadata.logging) {
      if (!isObject(entry) || typeof entry.callback_name !== 'string') continue;
      const type = entry.callback_type ?? 'success_and_failure';
      if (type === 'success' || type === 'success_and_failure') addTo(out.success_callback, entry.callback_name);
      if (type === 'failure' || type === 'success_and_failure') addTo(out.failure_callback, entry.callback_name);
      // Each entry's own variables only (as the gateway reads them): another entry's host must never come to
      // stand beside its secret.
      if (entry.callback_name === 'langfuse' || DYNAMIC_LOGGER_VARS[entry.callback_name]) Object.assign(out.callback_vars, ownVars(entry.callback_name, stringVars(entry.callback_vars)));
    }
    return out;
  }
  const settings = metadata.callback_settings;
  if (!isObject(settings)) return out;
  for (const name of [...names(settings.success_callback), ...names(settings.callbacks)]) addTo(out.success_callback, name);
  for (const name of [...names(settings.failure_callback), ...names(settings.callbacks)]) addTo(out.failure_callback, name);
  out.callback_vars = stringVars(settings.callback_vars);
  return out;
}

/** A 400 for a callback Tollgate does not run per team, or a secret sent as its mask. */
export function checkCallback(body: TeamCallbackBody, env: LoggerEnv): void {
  const { callback_name: name, callback_vars: vars } = body;
  if (!Object.hasOwn(SERVED, name)) {
    const served = Object.entries(SERVED).map(([n, what]) => `"${n}" (${what})`).join(' and ');
    throw badRequest(`callback_name = ${name} is not a callback Tollgate runs for a team; it runs ${served}`, 'callback_name');
  }
  refuseMaskedVars(vars, 'callback_vars');
  // Variables of another callback would be stored beside this one's and never used by it.
  const foreign = Object.keys(vars).find((k) => !FAMILY[name]?.test(k));
  if (foreign) throw badRequest(`callback_vars.${foreign} is not a variable of ${name}`, `callback_vars.${foreign}`);
  checkLoggerVars(name, vars, 'callback_vars', env);
  if (name === 'arize') checkArizePair(vars, 'callback_vars');
  checkKeyedPair(name, vars, 'callback_vars', env);
}

/**
 * The team's callbacks with `body`'s added for its events (both when callback_type is unset). Variables
 * given replace that callback's stored ones whole (LiteLLM merges them one by one): a `langfuse_host` a team
 * admin sends must never pair with a secret, or an `os.environ/` reference, a proxy admin stored. Other
 * callbacks' variables are kept, and so are this one's when none are given. Like LiteLLM, a callback already
 * listed for an event is a 400: disable logging first.
 */
export function withCallback(current: TeamCallbacks, body: TeamCallbackBody, teamId: string): TeamCallbacks {
  const given = Object.fromEntries(Object.entries(body.callback_vars).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const next: TeamCallbacks = {
    success_callback: [...current.success_callback],
    failure_callback: [...current.failure_callback],
    callback_vars: Object.keys(given).length > 0
      ? { ...Object.fromEntries(Object.entries(current.callback_vars).filter(([k]) => !FAMILY[body.callback_name]?.test(k))), ...given }
      : { ...current.callback_vars },
  };
  const type = body.callback_type ?? 'success_and_failure';
  for (const event of type === 'success_and_failure' ? ['success', 'failure'] as const : [type]) {
    const list = next[`${event}_callback`];
    if (list.includes(body.callback_name)) {
      throw badRequest(`callback_name = ${body.callback_name} already exists in ${event}_callback, for team_id = ${teamId}. Existing ${event}_callback = ${JSON.stringify(list)}`, 'callback_name');
    }
    list.push(body.callback_name);
  }
  return next;
}

/**
 * Team metadata with these callbacks as `callback_settings`. A `logging` list is folded in and
 * dropped: the gateway reads a team's `logging` before its `callback_settings`, so leaving it would
 * leave the write without effect.
 */
export function withCallbackSettings(metadata: Json, callbacks: TeamCallbacks): Json {
  const { logging: _folded, ...rest } = metadata;
  return { ...rest, callback_settings: { ...callbacks } };
}

/** JSON with object keys sorted, to compare metadata with what Postgres' jsonb gives back (its own key order). */
export const canonicalJson = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
