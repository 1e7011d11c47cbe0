import type { Caller } from '../../auth/authenticate.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import { configTeamEntry, type TeamSettingsEntry } from '../../config/team-settings-schema.ts';
import type { LangfuseDestination } from './types.ts';
import { keyCallbackSettings, teamCallbackSettings, type OwnerLoggingSettings } from '../owner-logging-settings.ts';

/**
 * Langfuse settings of one key or team, from its metadata as LiteLLM stores
 * them: `metadata.logging` (a list of `{callback_name, callback_type,
 * callback_vars}`), or the older team form `metadata.callback_settings`
 * (`{success_callback, failure_callback, callback_vars}`).
 */
export interface DynamicLangfuse {
  success: boolean;
  failure: boolean;
  /** `langfuse_public_key`, `langfuse_secret_key` (or `langfuse_secret`), `langfuse_host`: values as stored, maybe `os.environ/NAME`. */
  vars: { publicKey?: string; secretKey?: string; host?: string };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** The shared reader's settings (owner-logging-settings.ts) in Langfuse's own terms. */
function asLangfuse(s: OwnerLoggingSettings | undefined): DynamicLangfuse | undefined {
  if (!s) return undefined;
  const vars: DynamicLangfuse['vars'] = {};
  if (s.vars.langfuse_public_key) vars.publicKey = s.vars.langfuse_public_key;
  if (s.vars.langfuse_secret_key) vars.secretKey = s.vars.langfuse_secret_key;
  if (s.vars.langfuse_host) vars.host = s.vars.langfuse_host;
  return { success: s.success, failure: s.failure, vars };
}

/** The Langfuse settings a key's metadata holds (`logging`), if any. */
export function keyLangfuse(metadata: unknown): DynamicLangfuse | undefined {
  return asLangfuse(keyCallbackSettings('langfuse', metadata));
}

/**
 * The Langfuse settings a team's metadata holds (`logging`, else the older `callback_settings`), if any, as
 * every callback's are read (owner-logging-settings.ts teamCallbackSettings): `callback_settings` that list
 * callbacks without langfuse (what `/team/{id}/disable_logging` leaves) hold none.
 */
export function teamLangfuse(metadata: unknown): DynamicLangfuse | undefined {
  return asLangfuse(teamCallbackSettings('langfuse', metadata));
}

/**
 * A team's Langfuse settings, with LiteLLM's precedence (`_get_dynamic_logging_metadata`): the team's stored
 * `metadata.logging`, else its stored `metadata.callback_settings` (which `/team/{id}/callback` and
 * `/team/{id}/disable_logging` write), else its entry in config.yaml's `litellm_settings.default_team_settings`,
 * read as if it were stored `callback_settings`. Stored settings of any kind, even emptied ones, shadow the
 * config's entry.
 */
export function teamLoggingSettings(entries: readonly TeamSettingsEntry[] | undefined, teamId: string, metadata: unknown): DynamicLangfuse | undefined {
  if (isObject(metadata) && (Array.isArray(metadata.logging) || isObject(metadata.callback_settings))) return teamLangfuse(metadata);
  const entry = configTeamEntry(entries, teamId);
  if (!entry) return undefined;
  const { team_id: _, success_callback, failure_callback, ...vars } = entry;
  return teamLangfuse({ callback_settings: { success_callback, failure_callback, callback_vars: vars } });
}

const hasVars = (d: DynamicLangfuse) => Object.keys(d.vars).length > 0;

/**
 * Whether this call goes to Langfuse, and to whose project. As in LiteLLM:
 * the config's `success_callback` / `failure_callback` / `callbacks` turn it
 * on for everyone; a key's `metadata.logging` (else its team's) turns it on
 * for that key and, when it names credentials, sends its calls to that
 * project instead of the default one (never to both). A key with `logging`
 * set shadows its team's, as LiteLLM's precedence has it (and a team's stored
 * settings its `default_team_settings` entry: teamLoggingSettings). Neither can turn
 * the config's callback off (LiteLLM combines a team's callbacks with the
 * config's): at most they send its calls to their own project.
 */
export function langfuseDestination(config: TollgateConfig, caller: Caller, failed: boolean): LangfuseDestination | undefined {
  const settings = config.litellm_settings;
  const listed = (list: string[] | undefined) => !!list?.includes('langfuse');
  const global = listed(settings.callbacks) || listed(failed ? settings.failure_callback : settings.success_callback);
  if (caller.kind !== 'key') return global ? { source: 'env' } : undefined;
  const policy = caller.policy;
  const keyLogging = isObject(policy.metadata) && Array.isArray(policy.metadata.logging);
  const key = keyLangfuse(policy.metadata);
  const team = keyLogging || !policy.team ? undefined : teamLoggingSettings(settings.default_team_settings, policy.team.id, policy.team.metadata);
  const dynamic = key ?? team;
  const enabled = global || (!!dynamic && (failed ? dynamic.failure : dynamic.success));
  if (!enabled) return undefined;
  if (key && hasVars(key)) return { source: 'key', token: policy.token };
  if (team && hasVars(team) && policy.team) return { source: 'team', teamId: policy.team.id };
  return { source: 'env' };
}

/**
 * Whether any call of this config may reach Langfuse with its answer, so the
 * provider adapters must keep the answer's text (`ProviderCall.keepText`).
 */
export function langfuseWantsText(config: TollgateConfig, caller: Caller): boolean {
  // `callback_settings.langfuse.message_logging: false`: Langfuse never gets the answer, so it is not kept for it.
  if (config.callback_settings?.langfuse?.message_logging === false) return false;
  return langfuseDestination(config, caller, false) !== undefined || langfuseDestination(config, caller, true) !== undefined;
}
