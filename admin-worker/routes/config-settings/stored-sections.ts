/**
 * What LiteLLM's `POST /config/update` may store in LiteLLM_Config, and how a request is checked. LiteLLM keeps one
 * row per config.yaml section (worker/config/stored-rows.ts) and reads them all back at start; Tollgate compiles
 * general_settings, litellm_settings and environment_variables from config.yaml at build, and reads from the database
 * only router_settings (overlaid on config.yaml's, key by key, with store_model_in_db). So only the router settings
 * below are stored: anything else would be a row that changes nothing, and is refused, naming where it is set.
 * Pure: no database, no Workers types (its unit test runs under Node).
 */
import { routerSettingsChecks, unusableFallbacks } from '../../../worker/config/router-checks.ts';
import { routerSettingsSchema } from '../../../worker/config/router-settings-schema.ts';
import type { TollgateConfig } from '../../../worker/config/schema.ts';
import { FILE_ONLY_ROUTER_SETTINGS } from '../../../worker/config/stored-router-settings.ts';
import { STORED_ROWS } from '../../../worker/config/stored-rows.ts';
import { formatPath } from '../../../worker/config/validate.ts';
import { DEFAULT_ALLOWED_FAILS, DEFAULT_NUM_RETRIES } from '../../../worker/router/retry-policy.ts';

/**
 * One router setting the gateway honours from the database: its ConfigList `field_type`, a line about it and what
 * the gateway does when it is unset (worker/router/; absent: no default).
 */
interface StoredField { type: 'String' | 'Integer' | 'Float' | 'Boolean' | 'List' | 'Dict'; description: string; default?: unknown }

/**
 * The router settings `/config/update` stores, LiteLLM's first in the order its UI lists them, Tollgate's others
 * after: every other field is refused (`refusedWhy`). Grow it when the gateway starts reading a setting from the
 * row (worker/config/stored-router-settings.ts, whose FILE_ONLY_ROUTER_SETTINGS it ignores).
 */
export const STORED_ROUTER_FIELDS: Readonly<Record<string, StoredField>> = {
  routing_strategy: { type: 'String', description: 'how a deployment of a model group is picked', default: 'simple-shuffle' },
  routing_strategy_args: { type: 'Dict', description: 'arguments of the routing strategy (lowest_latency_buffer)' },
  num_retries: { type: 'Integer', description: 'retries of a failed call', default: DEFAULT_NUM_RETRIES },
  timeout: { type: 'Float', description: 'seconds a call may take' },
  stream_timeout: { type: 'Float', description: 'seconds a streamed call may take' },
  max_fallbacks: { type: 'Integer', description: 'most fallback groups tried for one call', default: 5 },
  fallbacks: { type: 'List', description: 'model groups tried when a group fails: [{group: [fallback, ...]}]' },
  context_window_fallbacks: { type: 'List', description: 'model groups tried when the prompt does not fit a group\'s context window' },
  content_policy_fallbacks: { type: 'List', description: 'model groups tried when a provider refuses a prompt on content policy' },
  allowed_fails: { type: 'Integer', description: 'failures in a minute before a deployment cools down', default: DEFAULT_ALLOWED_FAILS },
  cooldown_time: { type: 'Float', description: 'seconds a failing deployment is left out', default: 5 },
  retry_after: { type: 'Float', description: 'least seconds before a retry', default: 0 },
  retry_policy: { type: 'Dict', description: 'retries per error class' },
  model_group_alias: { type: 'Dict', description: 'names answered by another model group' },
  optional_pre_call_checks: { type: 'List', description: 'pre-call checks run before a deployment is picked' },
  default_max_parallel_requests: { type: 'Integer', description: 'calls in flight per deployment setting none' },
  enable_tag_filtering: { type: 'Boolean', description: 'route on the request\'s tags', default: false },
  tag_filtering_match_any: { type: 'Boolean', description: 'a deployment matches when any of its tags does', default: true },
  disable_cooldowns: { type: 'Boolean', description: 'never cool a deployment down', default: false },
  default_fallbacks: { type: 'List', description: 'model groups tried for any group without fallbacks of its own' },
  allowed_fails_policy: { type: 'Dict', description: 'allowed failures per error class' },
  caching_groups: { type: 'List', description: 'model groups sharing cached answers' },
  deployment_affinity_ttl_seconds: { type: 'Integer', description: 'seconds a session stays with its deployment', default: 3600 },
  model_group_affinity_config: { type: 'Dict', description: 'affinity checks per model group' },
};

/** Where a refused field is set instead, or why it changes nothing. */
const REFUSED_WHY: Record<string, string> = {
  'general_settings.email_settings': 'stored through PATCH /email/event_settings',
  'litellm_settings.public_model_groups': 'stored through POST /model_group/make_public',
  'litellm_settings.public_model_groups_links': 'stored through POST /model_group/make_public',
  model_list: 'models are added with POST /model/new',
};
const FROM_CONFIG_YAML = 'read from config.yaml when the gateway is built: set it there';

/** `table[key]` unless inherited (a body may name `constructor` or `toString`). */
const ownValue = (table: Readonly<Record<string, string>>, key: string): string | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

/** Why `section.field` is not stored, for the 400 naming it. */
function refusedWhy(section: string, field: string): string {
  const why = ownValue(REFUSED_WHY, `${section}.${field}`);
  if (why || section !== 'router_settings') return why ?? FROM_CONFIG_YAML;
  const fileOnly = ownValue(FILE_ONLY_ROUTER_SETTINGS, field);
  if (fileOnly) return `${fileOnly}: set it in config.yaml`;
  return Object.hasOwn(routerSettingsSchema.shape, field) ? FROM_CONFIG_YAML : 'not a router setting Tollgate knows';
}

/** Of LiteLLM's routing strategy arguments, the one the gateway acts on. */
export const ACTED_ON_STRATEGY_ARGS = new Set(['lowest_latency_buffer']);

/**
 * A `/config/update` body checked: the router settings to store and the keys to remove (both empty when it holds no
 * router_settings), or the answer refusing it.
 */
export type ConfigUpdateCheck =
  | { ok: true; set: Record<string, unknown>; removed: string[] }
  | { ok: false; status: 400 | 422; message: string; param: string };

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** config.yaml's litellm_settings, as far as the router checks read it. */
type LitellmGroups = Pick<TollgateConfig['litellm_settings'], 'model_group_settings'>;

/** `['fallbacks', 0, 'gpt']` → `router_settings.fallbacks[0].gpt` */
const pathOf = (path: readonly PropertyKey[]) => formatPath(['router_settings', ...path]);

const refusal = (refused: string[]): ConfigUpdateCheck & { ok: false } => ({
  ok: false,
  status: 400,
  message: `Not stored in the database, as it would change nothing (nothing was changed): ${refused.join('; ')}`,
  param: refused[0]!.replace(/ \(.*$/s, ''),
});

/** The router settings of `mapping` the gateway would not act on, each as `router_settings.path (why)`. */
function refusedRouterFields(mapping: Record<string, unknown>): string[] {
  const refused: string[] = [];
  for (const [field, value] of Object.entries(mapping)) {
    if (value !== null && value !== undefined && !Object.hasOwn(STORED_ROUTER_FIELDS, field)) {
      refused.push(`router_settings.${field} (${refusedWhy('router_settings', field)})`);
    }
  }
  const args = mapping.routing_strategy_args;
  for (const arg of isMapping(args) ? Object.keys(args) : []) {
    if (!ACTED_ON_STRATEGY_ARGS.has(arg)) refused.push(`router_settings.routing_strategy_args.${arg} (not acted on: of the strategy arguments only lowest_latency_buffer is)`);
  }
  return refused;
}

/**
 * A router_settings mapping, whose fields refusedRouterFields let through, checked as the database may hold it: a
 * null (or absent) value removes its key, so config.yaml's applies again; any other value must pass config.yaml's own
 * checks for it (else a 422 naming it; so is a fallback entry the router cannot use). A value the gateway would take
 * but ignore (worker/config/router-checks.ts: a retry_policy key naming no LiteLLM error class) is a 400 naming its
 * path; `litellm` is config.yaml's litellm_settings, where header-forwarding groups are named.
 */
function checkRouterSettings(mapping: Record<string, unknown>, litellm: LitellmGroups): ConfigUpdateCheck {
  const set: Record<string, unknown> = {};
  const removed: string[] = [];
  for (const [field, value] of Object.entries(mapping)) {
    if (value === null || value === undefined) removed.push(field);
    else set[field] = value;
  }
  if (!Object.keys(set).length) return { ok: true, set, removed };
  const parsed = routerSettingsSchema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`);
    return { ok: false, status: 422, message: `Invalid request body: ${problems.join('; ')}`, param: pathOf(parsed.error.issues[0]!.path) };
  }
  // config.yaml's schema takes a fallback entry the router cannot use (and warns); a write is refused it.
  const [unusable] = unusableFallbacks(parsed.data);
  if (unusable) return { ok: false, status: 422, message: `Invalid request body: router_settings.${unusable.path}: ${unusable.why}`, param: `router_settings.${unusable.path}` };
  const ignored = routerSettingsChecks(parsed.data, litellm);
  if (ignored.length) return refusal(ignored.map((i) => `router_settings.${i.path} (${i.why})`));
  return { ok: true, set: parsed.data as Record<string, unknown>, removed };
}

/**
 * A `/config/update` body (LiteLLM's ConfigYAML) checked: the router settings to store and remove, or the answer
 * refusing it. As LiteLLM (pydantic's `exclude_none`) a null section is no change; a null router setting removes the
 * stored one (LiteLLM's stored null keeps config.yaml's: the same effect). A field that would change nothing is a
 * 400 naming every such field; a router setting Tollgate's config.yaml would refuse is a 422 naming it. Either way
 * nothing is stored.
 */
export function checkConfigUpdate(body: Record<string, unknown>, litellm: LitellmGroups): ConfigUpdateCheck {
  const refused: string[] = [];
  let router: Record<string, unknown> | undefined;
  for (const [section, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if (!Object.hasOwn(STORED_ROWS, section)) {
      refused.push(`${section} (${ownValue(REFUSED_WHY, section) ?? 'not a config.yaml section the database holds'})`);
      continue;
    }
    if (!isMapping(value)) return { ok: false, status: 422, message: `Invalid request body: ${section}: expected a mapping`, param: section };
    if (section === 'router_settings') {
      router = value;
      refused.push(...refusedRouterFields(value));
      continue;
    }
    for (const [field, fieldValue] of Object.entries(value)) {
      if (fieldValue !== null && fieldValue !== undefined) refused.push(`${section}.${field} (${refusedWhy(section, field)})`);
    }
  }
  if (refused.length) return refusal(refused);
  return checkRouterSettings(router ?? {}, litellm);
}
