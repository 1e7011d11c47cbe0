/**
 * A key's or team's logging settings sent back as an answer showed them: LiteLLM's UI reads /team/info
 * and posts its metadata back with one change. A callback variable equal to what the answer shows for
 * the value stored at the same place (the same variable of `callback_settings`, or of the `logging`
 * entry at the same index with the same `callback_name`) is that stored value, as /credentials PATCH
 * takes its masks back (routes/credentials/values.ts); only what was changed is checked.
 */
import type { LoggerEnv } from '../queues/callbacks/loggers/types.ts';
import type { AdminContext } from './context.ts';
import { requireAdminForPrivilegedFields } from './env-refs.ts';
import { refuseMaskedLogging, shownVar } from './secret-mask.ts';
import { checkLoggingMetadata, checkVarPairs } from './logging-vars.ts';
import { isObject, type Json } from '../../worker/json.ts';
import { GatewayError } from '../../worker/errors.ts';
import { envRefName } from '../../worker/config/env-ref.ts';
import { keyLangfuse, teamLangfuse } from '../../worker/telemetry/langfuse/logging-settings.ts';
import { DYNAMIC_LOGGER_NAMES, DYNAMIC_LOGGER_VARS, keyLoggerSettings, teamLoggerSettings } from '../../worker/telemetry/standard/dynamic-settings.ts';

interface SentBack {
  /** The metadata to store: each variable sent as shown replaced by the stored value. */
  restored: unknown;
  /** The metadata with those variables left out: what the caller changed. */
  changed: unknown;
  /** Whether any stored secret was taken back. */
  kept: boolean;
  /** The callbacks whose stored secrets were taken back (langfuse, langsmith, gcs_bucket, arize, posthog). */
  keptFor: Set<string>;
  /** Whether a place with a value taken back names another host than the one stored there. */
  moved: boolean;
}

/**
 * Variables that say where a place's secrets are sent: a secret kept must keep them. The LangSmith project too:
 * a key shared by several teams (an `os.environ/` one) must not write into another team's project.
 */
const DESTINATION_VARS = ['langfuse_host', 'langsmith_base_url', 'langsmith_project', 'gcs_bucket_name', 'arize_space_id', 'arize_space_key', 'posthog_api_url'] as const;

/** `vars` split against `stored` (the variables at the same place): restored and changed (sentBack). */
/** The callback a variable belongs to, by its name. */
const familyOf = (name: string): string => (name.startsWith('langfuse_') ? 'langfuse' : DYNAMIC_LOGGER_NAMES.find((n) => DYNAMIC_LOGGER_VARS[n]!.includes(name)) ?? name);

interface Taken { kept: boolean; moved: boolean; keptFor: Set<string> }

function splitVars(vars: unknown, stored: unknown, taken: Taken): [unknown, unknown] {
  if (!isObject(vars)) return [vars, vars];
  const old = isObject(stored) ? stored : {};
  const restored: Json = Object.create(null) as Json;
  const changed: Json = Object.create(null) as Json;
  const keptFamilies = new Set<string>();
  for (const [name, v] of Object.entries(vars)) {
    const kept = Object.hasOwn(old, name) && v === shownVar(name, old[name]);
    restored[name] = kept ? old[name] : v;
    // A secret taken back: shown masked, or an os.environ/ reference (what it names is a secret too).
    if (kept && (v !== old[name] || envRefName(old[name]) !== undefined)) {
      keptFamilies.add(familyOf(name));
      taken.keptFor.add(familyOf(name));
    }
    if (!kept) changed[name] = v;
  }
  if (keptFamilies.size) {
    taken.kept = true;
    // What is kept here stays with this place's host (the kept callback's: team callback_vars hold every callback's).
    if (DESTINATION_VARS.some((v) => keptFamilies.has(familyOf(v)) && restored[v] !== old[v])) taken.moved = true;
  }
  return [{ ...restored }, { ...changed }];
}

/** Logging settings in `metadata` against those in `stored` (see above). */
export function sentBack(metadata: unknown, stored: unknown): SentBack {
  if (!isObject(metadata)) return { restored: metadata, changed: metadata, kept: false, moved: false, keptFor: new Set() };
  const old = isObject(stored) ? stored : {};
  const taken: Taken = { kept: false, moved: false, keptFor: new Set() };
  const restored: Json = { ...metadata };
  const changed: Json = { ...metadata };
  const settings = metadata.callback_settings;
  if (isObject(settings) && settings.callback_vars !== undefined) {
    const [r, ch] = splitVars(settings.callback_vars, isObject(old.callback_settings) ? old.callback_settings.callback_vars : undefined, taken);
    restored.callback_settings = { ...settings, callback_vars: r };
    changed.callback_settings = { ...settings, callback_vars: ch };
  }
  if (Array.isArray(metadata.logging)) {
    const storedLogging = Array.isArray(old.logging) ? old.logging : [];
    const pairs = metadata.logging.map((entry: unknown, i: number) => {
      const at: unknown = storedLogging[i];
      if (!isObject(entry) || entry.callback_vars === undefined) return [entry, entry];
      const same = isObject(at) && at.callback_name === entry.callback_name ? at.callback_vars : undefined;
      const [r, ch] = splitVars(entry.callback_vars, same, taken);
      return [{ ...entry, callback_vars: r }, { ...entry, callback_vars: ch }];
    });
    restored.logging = pairs.map(([r]) => r);
    changed.logging = pairs.map(([, ch]) => ch);
  }
  return { restored, changed, kept: taken.kept, moved: taken.moved, keptFor: taken.keptFor };
}

/**
 * Where a key's or team's metadata sends its events, as the loggers read it when sending (entries merged): the
 * Langfuse host, and each standard logger's base URL (PostHog's API URL), LangSmith project or bucket; a key's `logging`, else a team's `logging` /
 * `callback_settings`.
 */
function effectiveHost(metadata: unknown, merged: boolean, families: Set<string>): string {
  const places: unknown[] = [];
  if (families.has('langfuse')) places.push((merged ? keyLangfuse(metadata) : teamLangfuse(metadata))?.vars.host ?? null);
  for (const name of DYNAMIC_LOGGER_NAMES) {
    if (!families.has(name)) continue;
    const vars = (merged ? keyLoggerSettings(name, metadata) : teamLoggerSettings(name, metadata))?.vars ?? {};
    places.push(vars.langsmith_base_url ?? null, vars.langsmith_project ?? null, vars.gcs_bucket_name ?? null, vars.posthog_api_url ?? null);
    // Arize's destination is the space: an API key sent back as shown keeps the space it was stored with.
    if (name === 'arize') places.push(vars.arize_space_id ?? null, vars.arize_space_key ?? null);
  }
  places.push(storedPlaces(metadata, families));
  return JSON.stringify(places);
}

/**
 * The destination variables stored for `families` whatever the callback lists say: a team whose lists name none
 * (after /disable_logging) still holds its variables, and /team/{id}/callback without variables turns them on again.
 */
function storedPlaces(metadata: unknown, families: Set<string>): unknown[] {
  if (!isObject(metadata)) return [];
  const pick = (vars: unknown) => (isObject(vars) ? DESTINATION_VARS.filter((v) => families.has(familyOf(v))).map((v) => vars[v] ?? null) : null);
  const settings = metadata.callback_settings;
  const places: unknown[] = [pick(isObject(settings) ? settings.callback_vars : undefined)];
  if (Array.isArray(metadata.logging)) {
    for (const entry of metadata.logging) {
      if (isObject(entry) && typeof entry.callback_name === 'string' && families.has(entry.callback_name)) places.push([entry.callback_name, pick(entry.callback_vars)]);
    }
  }
  return places;
}

/**
 * An update's body with its logging settings taken back (sentBack) against the stored `metadata`, after
 * the checks of what changed: `os.environ/` values new or changed (a 403 for anyone but a proxy admin,
 * requireAdminForPrivilegedFields) and masks that match nothing stored (a 400). `merged` for a key, whose
 * metadata is merged, so the refusal says a setting left out is kept.
 */
export function checkedSentBack<B extends { metadata?: unknown; object_permission?: unknown }>(c: AdminContext, body: B, stored: unknown, options: { merged?: boolean } = {}): B {
  const { restored, changed, kept, moved, keptFor } = sentBack(body.metadata, stored);
  requireAdminForPrivilegedFields(c, { ...body, metadata: changed });
  refuseMaskedLogging(changed, options);
  checkLoggingMetadata(changed, c.env as unknown as LoggerEnv, false);
  // A secret taken back stays with the host it was stored for: a new host (or another entry's, or none) would
  // send it elsewhere. A key's metadata is merged, so its settings after the change are the stored ones updated.
  if (kept) {
    const after = options.merged && isObject(stored) && isObject(restored) ? { ...stored, ...restored } : restored;
    if (moved || effectiveHost(after, options.merged === true, keptFor) !== effectiveHost(stored, options.merged === true, keptFor)) {
      throw new GatewayError('metadata: a callback secret sent back as shown keeps the host it was stored for; to change the host, send the secret itself', {
        status: 400, type: 'invalid_request_error', param: 'metadata',
      });
    }
  }
  // Arize's key and space, LangSmith's and PostHog's URL and key, come together: checked on the settings with the masks taken back.
  checkVarPairs(restored, c.env as unknown as LoggerEnv);
  return isObject(body.metadata) ? { ...body, metadata: restored } : body;
}
