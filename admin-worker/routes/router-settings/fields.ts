/**
 * LiteLLM's `GET /router/settings` and `GET /router/fields` answers (RouterSettingsField rows, which the admin UI's
 * router settings page renders and saves through `/config/update`), for the router settings Tollgate stores in the
 * database (config-settings/stored-sections.ts STORED_ROUTER_FIELDS): a setting `/config/update` would refuse is not
 * offered. Values are the ones in effect; settings read only from config.yaml (redis_password among them) are never
 * shown, nor routing_strategy_args the gateway does not act on (`forShowing`: a catchall, config.yaml's may hold
 * resolved `os.environ/` secrets). Pure: no database, no Workers types (its unit test runs under Node).
 */
import { PRE_CALL_CHECKS, routerSettingsSchema } from '../../../worker/config/router-settings-schema.ts';
import type { TollgateConfig } from '../../../worker/config/schema.ts';
import { ACTED_ON_STRATEGY_ARGS, STORED_ROUTER_FIELDS } from '../config-settings/stored-sections.ts';

/** LiteLLM's RouterSettingsField. */
export interface RouterSettingsField {
  field_name: string;
  field_type: string;
  field_value: unknown;
  field_description: string;
  field_default: unknown;
  options: string[] | null;
  ui_field_name: string;
  link: string | null;
}

/** The strategies config.yaml takes, each as the gateway applies it (worker/router/). */
export const ROUTING_STRATEGY_DESCRIPTIONS: Record<string, string> = {
  'simple-shuffle': 'Picks a deployment at random, weighted by its weight, else its rpm, when set.',
  'least-busy': 'Picks the deployment with the fewest calls in flight from this gateway instance.',
  'usage-based-routing': 'Picks the deployment with the least tokens used this minute, within its rpm and tpm limits (as usage-based-routing-v2).',
  'usage-based-routing-v2': 'Picks the deployment with the least tokens used this minute, within its rpm and tpm limits.',
  'latency-based-routing': 'Picks the deployment with the lowest moving average latency, or one at random within lowest_latency_buffer of it.',
  'cost-based-routing': 'Picks the deployment with the lowest cost per token.',
};

/** Display names LiteLLM's UI shows that are not the field's name in title case. */
const UI_NAMES: Record<string, string> = {
  num_retries: 'Number of Retries',
  optional_pre_call_checks: 'Optional Pre-call Checks',
  default_max_parallel_requests: 'Max Parallel Requests',
  deployment_affinity_ttl_seconds: 'Deployment Affinity TTL (seconds)',
};

const LINKS: Record<string, string> = {
  enable_tag_filtering: 'https://docs.litellm.ai/docs/proxy/tag_routing',
  optional_pre_call_checks: 'https://docs.litellm.ai/docs/tutorials/claude_code_prompt_cache_routing',
};

const OPTIONS: Record<string, string[]> = {
  routing_strategy: [...routerSettingsSchema.shape.routing_strategy.unwrap().options],
  optional_pre_call_checks: [...PRE_CALL_CHECKS],
};

const titleCase = (name: string) => name.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');

/** Every field, LiteLLM's first, values unset (`/router/fields`); a list without a default defaults to []. */
function fieldDefinitions(): RouterSettingsField[] {
  return Object.entries(STORED_ROUTER_FIELDS).map(([name, { type, description, default: fallback }]) => ({
    field_name: name,
    field_type: type === 'Dict' ? 'Dictionary' : type,
    field_value: null,
    field_description: description,
    field_default: fallback ?? (type === 'List' ? [] : null),
    options: OPTIONS[name] ?? null,
    ui_field_name: UI_NAMES[name] ?? titleCase(name),
    link: LINKS[name] ?? null,
  }));
}

/** `GET /router/fields`: the field definitions with no values. */
export function routerFields() {
  return { fields: fieldDefinitions(), routing_strategy_descriptions: ROUTING_STRATEGY_DESCRIPTIONS };
}

/**
 * `settings` as the admin API shows them: of routing_strategy_args only the arguments the gateway acts on (none:
 * unset), as config.yaml's others may hold resolved `os.environ/` secrets. A new object; `settings` is not changed.
 */
export function forShowing(settings: TollgateConfig['router_settings']): TollgateConfig['router_settings'] {
  const { routing_strategy_args: args, ...rest } = settings;
  const kept = Object.entries(args ?? {}).filter(([arg]) => ACTED_ON_STRATEGY_ARGS.has(arg));
  return kept.length ? { ...rest, routing_strategy_args: Object.fromEntries(kept) } : rest;
}

/**
 * `GET /router/settings`: each field with its value in effect (`settings`: config.yaml's with the stored row over
 * them, as `forShowing` gives them), and `current_values` holding the fields that are set. Only listed fields are
 * read from `settings`.
 */
export function routerSettingsView(settings: TollgateConfig['router_settings']) {
  const current = settings as Record<string, unknown>;
  const fields = fieldDefinitions();
  const currentValues: Record<string, unknown> = {};
  for (const field of fields) {
    const value = current[field.field_name];
    if (value === undefined || value === null) continue;
    currentValues[field.field_name] = value;
    field.field_value = value;
  }
  return { fields, current_values: currentValues, routing_strategy_descriptions: ROUTING_STRATEGY_DESCRIPTIONS };
}
