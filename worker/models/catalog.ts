import type { GatewayState } from '../state.ts';
import type { ModelCatalog } from './deployments.ts';

/**
 * The model groups a request can use: config.yaml's, plus (with
 * `store_model_in_db`) the models added through the admin API. The hot path
 * calls this on every request, so it must answer from memory.
 */
export async function currentCatalog(state: GatewayState, _env: Record<string, unknown>, _ctx: { waitUntil(p: Promise<unknown>): void }, _opts: { missing?: string } = {}): Promise<ModelCatalog> {
  return state.catalog;
}
