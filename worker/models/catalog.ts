import { deploymentDefaultsOf } from '../config/default-params.ts';
import { Refreshed, type WaitUntil } from '../db/refreshed.ts';
import type { GatewayState } from '../state.ts';
import { loadDbDeployments, mergeCatalog, sealingSecret, storeModelInDb } from './db-models.ts';
import type { ModelCatalog } from './deployments.ts';

let cached: { state: GatewayState; catalog: Refreshed<ModelCatalog> } | undefined;

/**
 * The model groups a request can use: config.yaml's, plus (with `store_model_in_db`) the models added
 * through the admin API. The hot path calls this on every request, so it answers from memory: the DB models
 * are re-read in the background (db/refreshed.ts). Only a request naming a group the copy does not have
 * waits, for a read that started after it arrived, so `/model/new` followed by a call works at once; so does
 * the first listing of an isolate. A failed read keeps the last catalog.
 */
export async function currentCatalog(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil, opts: { missing?: string } = {}): Promise<ModelCatalog> {
  if (!storeModelInDb(state.config, env)) return state.catalog;
  if (cached?.state !== state) {
    const defaults = deploymentDefaultsOf(state.config);
    const load = async (scope: WaitUntil) => mergeCatalog(state.catalog, await loadDbDeployments(env, sealingSecret(env, state.masterKey), scope, state.credentials, defaults));
    cached = { state, catalog: new Refreshed(state.catalog, 'DB models', load) };
  }
  const { catalog } = cached;
  const unknownGroup = opts.missing === undefined ? catalog.startedAt === 0 : !catalog.value.groups.has(opts.missing);
  return catalog.current(ctx, unknownGroup);
}
