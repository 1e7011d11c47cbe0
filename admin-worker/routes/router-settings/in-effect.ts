/**
 * The router settings the gateway routes by, as the admin routes read them (`/config/list`, `/router/settings`,
 * `/fallback`): config.yaml's, with store_model_in_db LiteLLM_Config's `router_settings` row laid over them
 * (worker/config/stored-router-settings.ts). A write (`/fallback`) builds on `routerSettingsOver`, whole; a read is
 * shown through `routerSettingsInEffect`, its routing_strategy_args narrowed (`forShowing`).
 */
import type { TollgateConfig } from '../../../worker/config/schema.ts';
import { overlayRouterSettings, type RouterSettings } from '../../../worker/config/stored-router-settings.ts';
import { storeModelInDb } from '../../../worker/models/db-models.ts';
import { fileRouterSettings, readStoredRouterSettings } from '../../../worker/models/stored-router-settings.ts';
import type { AdminContext } from '../../lib/context.ts';
import { forShowing } from './fields.ts';

export interface RouterSettingsInEffect {
  settings: RouterSettings;
  /** The row's keys the gateway applies (a bad value leaves config.yaml's in effect). */
  applied: string[];
}

/**
 * config.yaml's router settings of `config` with the row's `paramValue` (undefined or null: no row) laid over them,
 * whole: what a write stores from. The admin isolate's config may hold a row laid over config.yaml's already (the
 * catalog's refresh swaps it in): config.yaml's own are taken.
 */
export function routerSettingsOver(config: TollgateConfig, paramValue: unknown): RouterSettingsInEffect {
  const fromFile = fileRouterSettings(config);
  if (paramValue === undefined || paramValue === null) return { settings: fromFile, applied: [] };
  const { settings, applied } = overlayRouterSettings(fromFile, paramValue);
  return { settings, applied };
}

/**
 * The router settings in effect, as shown: the row is read only with store_model_in_db (without it the gateway never
 * reads it, and config.yaml's alone apply), and routing_strategy_args hold only what the gateway acts on.
 */
export async function routerSettingsInEffect(c: AdminContext, config: TollgateConfig): Promise<RouterSettingsInEffect> {
  const row = storeModelInDb(config, c.env) ? await readStoredRouterSettings(c.get('db')().db) : undefined;
  const { settings, applied } = routerSettingsOver(config, row);
  return { settings: forShowing(settings), applied };
}
