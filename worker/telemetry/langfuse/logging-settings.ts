import type { Caller } from '../../auth/authenticate.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import { configTeamEntry, type TeamSettingsEntry } from '../../config/team-settings-schema.ts';
import type { LangfuseDestination } from './types.ts';

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
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** `metadata.logging` entries naming langfuse; callback_type unset means success and failure (as in LiteLLM). */
function fromLoggingList(list: unknown[]): DynamicLangfuse | undefined {
  let found: DynamicLangfuse | undefined;
  for (const entry of list) {
    if (!isObject(entry) || entry.callback_name !== 'langfuse') continue;
    found ??= { success: false, failure: false, vars: {} };
    const type = entry.callback_type;
    if (type === 'success' || type === 'success_and_failure' || type === undefined || type === null) found.success = true;
    if (type === 'failure' || type === 'success_and_failure' || type === undefined || type === null) found.failure = true;
    if (isObject(entry.callback_vars)) Object.assign(found.vars, varsOf(entry.callback_vars));
  }
  return found;
}

function varsOf(v: Json): DynamicLangfuse['vars'] {
  const out: DynamicLangfuse['vars'] = {};
  const publicKey = str(v.langfuse_public_key);
  const secretKey = str(v.langfuse_secret_key) ?? str(v.langfuse_secret);
  const host = str(v.langfuse_host);
  if (publicKey) out.publicKey = publicKey;
  if (secretKey) out.secretKey = secretKey;
  if (host) out.host = host;
  return out;
}

/** The Langfuse settings a key's metadata holds (`logging`), if any. */
export function keyLangfuse(metadata: unknown): DynamicLangfuse | undefined {
  if (!isObject(metadata) || !Array.isArray(metadata.logging)) return undefined;
  return fromLoggingList(metadata.logging);
}

/**
 * The Langfuse settings a team's metadata holds (`logging`, else the older `callback_settings`), if any.
 * `callback_settings` that list callbacks without langfuse (what `/team/{id}/disable_logging` leaves:
 * empty lists, variables kept) hold none: the team's own callbacks are off, so its stored credentials
 * send nothing anywhere, and the config's callbacks log its calls to the default project.
 */
export function teamLangfuse(metadata: unknown): DynamicLangfuse | undefined {
  if (!isObject(metadata)) return undefined;
  if (Array.isArray(metadata.logging)) return fromLoggingList(metadata.logging);
  const settings = metadata.callback_settings;
  if (!isObject(settings)) return undefined;
  const listed = (v: unknown) => Array.isArray(v) && v.includes('langfuse');
  const success = listed(settings.success_callback) || listed(settings.callbacks);
  const failure = listed(settings.failure_callback) || listed(settings.callbacks);
  const lists = [settings.success_callback, settings.failure_callback, settings.callbacks].some(Array.isArray);
  if (lists && !success && !failure) return undefined;
  const vars = isObject(settings.callback_vars) ? varsOf(settings.callback_vars) : {};
  if (!success && !failure && Object.keys(vars).length === 0) return undefined;
  return { success, failure, vars };
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
