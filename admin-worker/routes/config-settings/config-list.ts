/**
 * LiteLLM's `GET /config/list` entries (its ConfigList): per field its type, a line about it, the value in effect,
 * whether a LiteLLM_Config row holds one (`stored_in_db`: true; false when only config.yaml sets it; null when
 * neither does) and LiteLLM's default. general_settings lists the fields LiteLLM's UI edits; their value is
 * config.yaml's, the only one Tollgate reads. router_settings (Tollgate's: LiteLLM lists general_settings only)
 * lists the router settings the gateway takes from the database, the stored value over config.yaml's.
 */
import { masked, maskedUrl } from '../../lib/secret-mask.ts';
import type { RouterSettingsInEffect } from '../router-settings/in-effect.ts';
import { STORED_ROUTER_FIELDS } from './stored-sections.ts';

interface FieldDetail { field_name: string; field_type: string; field_description: string; field_default_value: unknown; stored_in_db: boolean | null }

export interface ConfigListEntry {
  field_name: string;
  field_type: string;
  field_description: string;
  field_value: unknown;
  stored_in_db: boolean | null;
  field_default_value: unknown;
  premium_field: boolean;
  nested_fields: FieldDetail[] | null;
}

/** The general_settings fields LiteLLM's `/config/list` answers, with their type and LiteLLM's default. */
const GENERAL_FIELDS: [name: string, type: string, description: string, fallback: unknown][] = [
  ['max_parallel_requests', 'Integer', 'most calls in flight per key', null],
  ['global_max_parallel_requests', 'Integer', 'most calls in flight on the proxy', null],
  ['max_request_size_mb', 'Integer', 'largest request body, in MB', null],
  ['max_batch_file_size_mb', 'Integer', 'largest batch input file, in MB', null],
  ['max_response_size_mb', 'Integer', 'largest response body, in MB', null],
  ['proxy_config_reload_interval_seconds', 'Integer', 'how often database-stored objects are reloaded', 30],
  ['pass_through_endpoints', 'PydanticModel', 'routes forwarded to another API', null],
  ['store_model_in_db', 'Boolean', 'models and settings stored in and read from the database', null],
  ['store_prompts_in_spend_logs', 'Boolean', 'keep request and response text in the spend logs', null],
  ['maximum_spend_logs_retention_period', 'String', 'how long spend logs are kept (e.g. 7d)', null],
  ['maximum_health_check_retention_period', 'String', 'how long health check rows are kept', null],
  ['maximum_spend_logs_cleanup_batch_size', 'Integer', 'rows deleted per statement by the spend log cleanup', null],
  ['maximum_spend_logs_cleanup_max_batches', 'Integer', 'statements per table per spend log cleanup run', null],
  ['maximum_spend_logs_cleanup_run_budget', 'String', 'time one spend log cleanup run may take', null],
  ['maximum_spend_logs_cleanup_batch_timeout', 'String', 'statement timeout of each cleanup batch', null],
  ['mcp_internal_ip_ranges', 'List', 'CIDR ranges taken for internal networks by MCP access control', null],
  ['mcp_trusted_proxy_ranges', 'List', 'CIDR ranges of trusted reverse proxies for MCP', null],
  ['mcp_xff_num_trusted_hops', 'Integer', 'trusted proxies appending to X-Forwarded-For', null],
  ['always_include_stream_usage', 'Boolean', 'usage in every streamed answer', null],
  ['forward_client_headers_to_llm_api', 'Boolean', 'forward the client\'s headers to the provider', null],
  ['mcp_required_fields', 'List', 'MCP server fields a submission must fill in', null],
  ['cancel_on_disconnect', 'Boolean', 'cancel the provider call when the client goes away', null],
  ['disable_auto_add_proxy_admin_to_teams', 'Boolean', 'do not add the creating proxy admin to a new team', null],
  ['apply_user_budget_to_team_keys', 'Boolean', 'a user\'s budget applies to their team keys too', null],
];

/** Every general_settings field `/config/field/*` knows (LiteLLM answers others "Invalid field"). */
export const GENERAL_FIELD_NAMES: ReadonlySet<string> = new Set(GENERAL_FIELDS.map(([name]) => name));

/** LiteLLM's PassThroughGenericEndpoint fields, its nested_fields. */
const PASS_THROUGH_FIELDS: [string, string][] = [['path', 'str'], ['target', 'str'], ['headers', 'dict'], ['include_subpath', 'bool'], ['cost_per_request', 'float']];

const storedIn = (field: string, stored: Record<string, unknown>, configured: Record<string, unknown>): boolean | null =>
  Object.hasOwn(stored, field) ? true : configured[field] !== undefined ? false : null;

/** A header's value as shown: text masked (an `os.environ/` reference as written), any other value as `****`. */
const shownHeader = (v: unknown): unknown => (typeof v === 'string' ? masked(v) : '****');

/**
 * Pass-through endpoints as shown: a header's value (an API key, mostly) masked, an `os.environ/` reference as
 * written; the target's userinfo and query (`?api_key=`) masked.
 */
export function shownPassThrough(value: unknown): unknown {
  if (!Array.isArray(value)) return value ?? null;
  return value.map((e: unknown) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return e;
    const { target, headers } = e as Record<string, unknown>;
    return {
      ...e,
      ...(target !== undefined ? { target: maskedUrl(target) } : {}),
      ...(headers !== null && typeof headers === 'object'
        ? { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, shownHeader(v)])) }
        : {}),
    };
  });
}

/** `/config/list?config_type=general_settings`: config.yaml's values; a stored one changes nothing in Tollgate. */
export function generalSettingsList(configured: Record<string, unknown>, stored: Record<string, unknown>): ConfigListEntry[] {
  return GENERAL_FIELDS.map(([name, type, description, fallback]) => ({
    field_name: name,
    field_type: type,
    field_description: description,
    field_value: name === 'pass_through_endpoints' ? shownPassThrough(configured[name]) : configured[name] ?? null,
    stored_in_db: storedIn(name, stored, configured),
    field_default_value: fallback,
    premium_field: false,
    nested_fields: name === 'pass_through_endpoints'
      ? PASS_THROUGH_FIELDS.map(([sub, subType]) => ({ field_name: sub, field_type: subType, field_description: '', field_default_value: null, stored_in_db: null }))
      : null,
  }));
}

/**
 * `/config/list?config_type=router_settings`: the value in effect as the gateway lays the row over config.yaml's
 * `fromFile` (router-settings/in-effect.ts: no row without store_model_in_db; routing_strategy_args narrowed to what
 * the gateway acts on); `stored_in_db` is true only for a stored value the gateway applies (one it ignores, say a bad
 * value, leaves config.yaml's in effect).
 */
export function routerSettingsList(fromFile: Record<string, unknown>, inEffect: RouterSettingsInEffect): ConfigListEntry[] {
  const values = inEffect.settings as Record<string, unknown>;
  return Object.entries(STORED_ROUTER_FIELDS).map(([name, { type, description, default: fallback }]) => ({
    field_name: name,
    field_type: type,
    field_description: description,
    field_value: values[name] ?? null,
    stored_in_db: inEffect.applied.includes(name) ? true : fromFile[name] !== undefined ? false : null,
    field_default_value: fallback ?? null,
    premium_field: false,
    nested_fields: null,
  }));
}
