import { runtimeConfig, type RuntimeConfig } from './config/runtime.ts';
import { buildCatalog, type ModelCatalog } from './models/deployments.ts';

export interface GatewayState extends RuntimeConfig {
  catalog: ModelCatalog;
}

let cached: { env: object; state: Promise<GatewayState> } | undefined;

/**
 * The isolate's view of the config: validated once against the Worker's env,
 * with the model catalog built from it. Every request after the first reads
 * it from memory.
 */
export function gatewayState(env: Record<string, unknown>): Promise<GatewayState> {
  if (cached?.env === env) return cached.state;
  const runtime = runtimeConfig(env);
  const state = buildCatalog(runtime.config).then((catalog) => ({ ...runtime, catalog }));
  cached = { env, state };
  return state;
}
