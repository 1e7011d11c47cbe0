import type { Caller } from '../../auth/authenticate.ts';
import { CALLBACK_VARS, keyCallbackSettings, teamCallbackSettings, type OwnerLoggingSettings } from '../owner-logging-settings.ts';

/**
 * LiteLLM's "team/key based logging" for the standard loggers that take per-call credentials
 * (its StandardCallbackDynamicParams), read by worker/telemetry/owner-logging-settings.ts as for Langfuse: a
 * key's `metadata.logging`, else its team's `metadata.logging`, else the team's older
 * `metadata.callback_settings`. The variables stay in Postgres: the gateway only says whose settings a payload
 * goes with, and the admin Worker reads them when it posts (admin-worker/queues/callbacks/logger-owners.ts).
 */
export const DYNAMIC_LOGGER_VARS: Readonly<Record<string, readonly string[]>> = {
  langsmith: CALLBACK_VARS.langsmith!,
  gcs_bucket: CALLBACK_VARS.gcs_bucket!,
  // An OpenTelemetry callback (worker/telemetry/otel/sink.ts reads its owner), checked and masked like the others.
  arize: CALLBACK_VARS.arize!,
  posthog: CALLBACK_VARS.posthog!,
};

/** Callback names whose key or team settings send a call to a destination of its own (besides langfuse). */
export const DYNAMIC_LOGGER_NAMES: readonly string[] = Object.keys(DYNAMIC_LOGGER_VARS);

/** A standard logger's key or team settings: on for success and/or failure, its own variables (non-empty text). */
export type DynamicLoggerSettings = OwnerLoggingSettings;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** The logger's settings in a key's metadata (`logging` only), if any. */
export const keyLoggerSettings = keyCallbackSettings;

/** The logger's settings in a team's metadata (owner-logging-settings.ts teamCallbackSettings), if any. */
export const teamLoggerSettings = teamCallbackSettings;

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

/** Per key policy (replaced whenever the key or its team changes): whether its settings reach a dynamic logger. */
const dynamicOn = new WeakMap<object, boolean>();

/**
 * Whether the caller's key or team settings turn on a logger with key/team settings (langsmith, gcs_bucket, posthog,
 * and the OpenTelemetry callback arize) for its calls, success or failure, or name a destination of their own for it (a team's
 * `callback_vars` without callback lists, used when the config turns the logger on): only then is the call's
 * text kept for one and are its owners looked up. Two property reads for a caller holding no logging settings;
 * worked out once per key policy otherwise (Langfuse-only settings, or a team whose callbacks /disable_logging
 * emptied, reach none).
 */
export function callerHasLogging(caller: Caller): boolean {
  if (caller.kind !== 'key') return false;
  const { metadata, team } = caller.policy;
  const holds = (isObject(metadata) && Array.isArray(metadata.logging))
    || (!!team && isObject(team.metadata) && (Array.isArray(team.metadata.logging) || isObject(team.metadata.callback_settings)));
  if (!holds) return false;
  const known = dynamicOn.get(caller.policy);
  if (known !== undefined) return known;
  const reaches = (v: { on: boolean; owner?: LoggerOwner }) => v.on || v.owner !== undefined;
  const on = DYNAMIC_LOGGER_NAMES.some((name) => reaches(loggerOwner(name, caller, false)) || reaches(loggerOwner(name, caller, true)));
  dynamicOn.set(caller.policy, on);
  return on;
}
