/**
 * Which model groups the public model hub lists, and its links: config.yaml's `litellm_settings.public_model_groups`
 * and `public_model_groups_links`, unless `/model_group/make_public` or `/model_hub/update_useful_links` stored
 * others in LiteLLM_Config's `litellm_settings` row (LiteLLM's place for them), which win, as LiteLLM lets the
 * database's settings win over the file's.
 *
 * `/public/model_hub` takes no key, so anyone may call it as often as they like: the stored row is never read for
 * a request. Each isolate keeps its copy (db/refreshed.ts): one read at a time, in the background at most every
 * REFRESH_EVERY_MS (2 s), so a flood of requests costs an isolate at most one Postgres connection per interval, the
 * database down or not; only requests arriving before the isolate's first read has ended wait for it. Until a read
 * has landed the isolate has no copy, and config.yaml's list is not a stand-in for it (a group an admin withdrew would
 * reappear): the hub answers a 503 instead. `/model_group/info`'s `is_public_model_group` reads the same copy (publicModelGroups), falling
 * back to config.yaml's list for a flag rather than failing the listing. Without `store_model_in_db` (LiteLLM reads stored settings only then,
 * and `/model_group/make_public` needs it) the database is never read here.
 */
import { STORED_ROWS } from '../config/stored-rows.ts';
import { openDatabase } from '../db/client.ts';
import { readConfigRow } from '../db/config-row.ts';
import { Refreshed, type WaitUntil } from '../db/refreshed.ts';
import { GatewayError } from '../errors.ts';
import type { GatewayState } from '../state.ts';
import { storeModelInDb } from './db-models.ts';

/** LiteLLM_Config's row LiteLLM keeps its `litellm_settings` in (param_value: a mapping of settings). */
export const LITELLM_SETTINGS_ROW = STORED_ROWS.litellm_settings;

export interface HubSettings {
  /** The model groups listed, in the order given. */
  groups: readonly string[];
  /** `{title: url}`, or null when none are set (LiteLLM's `useful_links`). */
  links: Record<string, string> | null;
}

/** What the stored row says; a field it does not hold stays config.yaml's. */
interface StoredHub {
  groups?: string[];
  links?: Record<string, string>;
}

/** Reads the hub's fields out of a stored `litellm_settings` value, taking only well-formed ones. */
export function storedHub(value: unknown): StoredHub {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const { public_model_groups: groups, public_model_groups_links: links } = value as Record<string, unknown>;
  const out: StoredHub = {};
  if (Array.isArray(groups)) out.groups = groups.filter((g): g is string => typeof g === 'string');
  if (links && typeof links === 'object' && !Array.isArray(links)) {
    out.links = Object.fromEntries(Object.entries(links).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return out;
}

async function readStoredHub(env: Record<string, unknown>, ctx: WaitUntil): Promise<StoredHub> {
  const database = openDatabase(env);
  try {
    return storedHub(await readConfigRow(database.db, LITELLM_SETTINGS_ROW));
  } finally {
    ctx.waitUntil(database.close());
  }
}

let cached: { state: GatewayState; stored: Refreshed<StoredHub> } | undefined;

/** The answer while the isolate has no copy of the stored row: config.yaml's list might show a withdrawn group. */
const hubUnavailable = () => new GatewayError('The public model hub is not available yet: its settings could not be read from the database. Try again shortly.', {
  status: 503, type: 'service_unavailable', retryable: true, headers: { 'retry-after': '2' },
});

/**
 * The hub's settings for a request that brings no key: from memory, config.yaml's alone without
 * store_model_in_db; otherwise the isolate's copy of the stored row (see above), read at most once per interval.
 * Throws a 503 while the isolate has not read the row once (Postgres down or slow on a new isolate).
 */
export async function hubSettings(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil): Promise<HubSettings> {
  const settings = state.config.litellm_settings;
  const fromConfig: HubSettings = { groups: settings.public_model_groups ?? [], links: settings.public_model_groups_links ?? null };
  if (!storeModelInDb(state.config, env)) return fromConfig;
  const stored = storedCopy(state, env);
  const value = await stored.current(ctx, stored.settledAt === 0);
  if (stored.loadedAt === 0) throw hubUnavailable();
  return { groups: value.groups ?? fromConfig.groups, links: value.links ?? fromConfig.links };
}

/**
 * The published model groups for `/model_group/info`'s `is_public_model_group`: the stored list once this isolate's
 * copy of it has landed (store_model_in_db), else config.yaml's `public_model_groups`. The same copy `hubSettings`
 * keeps, so no request reads Postgres of its own; never throws (a flag is not worth failing the listing for).
 */
export async function publicModelGroups(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil): Promise<readonly string[]> {
  const fromConfig = state.config.litellm_settings.public_model_groups ?? [];
  if (!storeModelInDb(state.config, env)) return fromConfig;
  const stored = storedCopy(state, env);
  const value = await stored.current(ctx, stored.settledAt === 0);
  return (stored.loadedAt !== 0 ? value.groups : undefined) ?? fromConfig;
}

/**
 * After this isolate stored new hub settings (the admin Worker's `/model_group/make_public`): its copy read again
 * before the answer, so its next `/model_group/info` flags what was just stored rather than what it read up to a
 * quiet spell ago. Never throws (a failed read keeps the old copy; other isolates read theirs in their own time).
 */
export async function rereadHubSettings(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil): Promise<void> {
  if (storeModelInDb(state.config, env)) await storedCopy(state, env).current(ctx, true);
}

/** The isolate's copy of the stored row. Only its first read is waited for; later ones (after a failure too) run in the background every 2 s. */
function storedCopy(state: GatewayState, env: Record<string, unknown>): Refreshed<StoredHub> {
  if (cached?.state !== state) cached = { state, stored: new Refreshed<StoredHub>({}, 'public model hub settings', (scope) => readStoredHub(env, scope)) };
  return cached.stored;
}
