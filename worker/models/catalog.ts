import { deploymentDefaultsOf } from '../config/default-params.ts';
import { openDatabase } from '../db/client.ts';
import { Refreshed, type WaitUntil } from '../db/refreshed.ts';
import type { GatewayState } from '../state.ts';
import { dbDeployments, mergeCatalog, readDbModelRows, sealingSecret, storeModelInDb } from './db-models.ts';
import { mustReadCatalog } from './catalog-wait.ts';
import type { ModelCatalog } from './deployments.ts';
import { readStoredRouterSettings, StoredRouterSettings } from './stored-router-settings.ts';

let cached: { state: GatewayState; catalog: Refreshed<ModelCatalog> } | undefined;

/**
 * The model groups a request can use: config.yaml's, plus (with `store_model_in_db`) the models added
 * through the admin API. The hot path calls this on every request, so it answers from memory: the DB models
 * are re-read in the background (db/refreshed.ts). Only a request naming a model the copy cannot route waits, for a
 * read that started after it arrived, so `/model/new` followed by a call works at once; so do the requests that come
 * before the isolate's first read has ended (catalog-wait.ts). A failed read keeps the last catalog. The same read, on
 * the same connection, takes LiteLLM_Config's `router_settings` row and lays it over config.yaml's
 * (stored-router-settings.ts).
 */
export async function currentCatalog(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil, opts: { missing?: string } = {}): Promise<ModelCatalog> {
  if (!storeModelInDb(state.config, env)) return state.catalog;
  if (cached?.state !== state) {
    const defaults = deploymentDefaultsOf(state.config);
    const routerSettings = new StoredRouterSettings(state.config);
    const load = async (scope: WaitUntil) => {
      const database = openDatabase(env);
      const [rows, storedRouterSettings] = await Promise.all([readDbModelRows(database.db), readStoredRouterSettings(database.db)])
        .finally(() => scope.waitUntil(database.close()));
      const merged = mergeCatalog(state.catalog, await dbDeployments(rows, env, sealingSecret(env, state.masterKey), state.credentials, defaults));
      // Only a read that fully succeeded changes the settings, with the catalog it goes with.
      routerSettings.apply(storedRouterSettings);
      return merged;
    };
    cached = { state, catalog: new Refreshed(state.catalog, 'DB models', load) };
  }
  const { catalog } = cached;
  return catalog.current(ctx, mustReadCatalog(state.config, catalog, opts.missing));
}
