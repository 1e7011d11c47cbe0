/**
 * LiteLLM_Config's `router_settings` row (the admin UI's router settings and fallbacks pages, `/config/update`) laid
 * over config.yaml's `router_settings`, by LiteLLM's rules (`_add_router_settings_from_db_config` with
 * `_update_dictionary`): a key the row sets wins; one it sets to null keeps config.yaml's; a mapping (model_group_alias,
 * retry_policy, routing_strategy_args, ...) is merged one level into config.yaml's, the row's entries winning and an
 * entry it sets to null removed (LiteLLM's router then finds no value there); a list (fallbacks, even an empty one) or
 * a plain value replaces config.yaml's. Numbers written as strings count as numbers (the schema's leaf types read
 * them, as LiteLLM converts them).
 *
 * Each key the row sets is checked with config.yaml's own schema for it: a bad one is ignored and config.yaml's value
 * kept for it, the other keys still applying. Then config.yaml's cross-checks of router settings (router-checks.ts)
 * name what the row brought that the router ignores, as config.yaml's warnings do. The reasons name keys and paths,
 * never values (a row may hold secrets).
 */
import type { z } from 'zod';
import { isObject } from '../json.ts';
import { generalSettingsOf } from '../telemetry/email/event-settings.ts';
import { routerSettingsChecks } from './router-checks.ts';
import { routerSettingsSchema } from './router-settings-schema.ts';
import type { TollgateConfig } from './schema.ts';
import { formatPath } from './validate.ts';

export type RouterSettings = TollgateConfig['router_settings'];

/**
 * Settings a stored row cannot change: the limiter Durable Objects and the admin Worker read provider budgets from
 * config.yaml, default_litellm_params are applied to config.yaml's models when the config is validated, the
 * pre-call checks always run, and the Redis fields configure nothing (deployment health lives in Durable Objects).
 */
export const FILE_ONLY_ROUTER_SETTINGS: Readonly<Record<string, string>> = {
  enable_pre_call_checks: 'always on in Tollgate (every deployment is checked before a call)',
  provider_budget_config: 'provider budgets are read from config.yaml by the limiters and the admin Worker',
  default_litellm_params: 'applied to the models when config.yaml is validated',
  redis_host: 'not needed (no Redis for routing)',
  redis_port: 'not needed (no Redis for routing)',
  redis_password: 'not needed (no Redis for routing)',
};

export interface OverlaidRouterSettings {
  settings: RouterSettings;
  /** The keys the row set that apply. */
  applied: string[];
  /** Why a key of the row is not used (names and paths only): empty when every key applied. */
  ignored: string[];
}

const shape = routerSettingsSchema.shape as Record<string, z.ZodType>;
const withoutNulls = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null && v !== undefined));

/**
 * config.yaml's router settings with the stored row's `param_value` (an object, or its JSON string) over them.
 * `fromFile` is never changed: the result is a new object when the row sets anything, else `fromFile` itself.
 * A value that is not a mapping is ignored whole.
 */
export function overlayRouterSettings(fromFile: RouterSettings, paramValue: unknown): OverlaidRouterSettings {
  const stored = generalSettingsOf(paramValue);
  if (!stored) return { settings: fromFile, applied: [], ignored: ['the row (not a mapping of settings)'] };
  const settings: Record<string, unknown> = { ...fromFile };
  const applied: string[] = [];
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(stored)) {
    if (value === null || value === undefined) continue;
    // Own names only: a row naming `constructor` or `toString` names no setting.
    const why = Object.hasOwn(FILE_ONLY_ROUTER_SETTINGS, key) ? FILE_ONLY_ROUTER_SETTINGS[key] : undefined;
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (why || !field) {
      ignored.push(`${key}: ${why ?? 'not a router setting Tollgate knows'}`);
      continue;
    }
    const current = settings[key];
    const parsed = field.safeParse(isObject(value) ? withoutNulls({ ...(isObject(current) ? current : {}), ...value }) : value);
    if (!parsed.success) {
      ignored.push(...parsed.error.issues.map((i) => `${formatPath([key, ...i.path])}: ${i.message}`));
      continue;
    }
    settings[key] = parsed.data;
    applied.push(key);
  }
  return applied.length ? { settings: settings as RouterSettings, applied, ignored } : { settings: fromFile, applied, ignored };
}

/**
 * What the overlaid `settings` bring that the router ignores and config.yaml's `fromFile` did not already
 * (router-checks.ts), as `path: why`: what config.yaml's warnings would name. `litellm` is the config's
 * litellm_settings (where the header groups are named).
 */
export function noEffectOf(fromFile: RouterSettings, settings: RouterSettings, litellm: Parameters<typeof routerSettingsChecks>[1]): string[] {
  if (settings === fromFile) return [];
  const checksOf = (s: RouterSettings) => routerSettingsChecks(s, litellm).map(({ path, why }) => `${path}: ${why}`);
  const inFile = new Set(checksOf(fromFile));
  return checksOf(settings).filter((found) => !inFile.has(found));
}
