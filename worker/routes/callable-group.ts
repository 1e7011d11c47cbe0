import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { aliasOf, authorizeCall } from '../proxy/call-access.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import type { GatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * The deployments a model name reaches for this caller, held as a call of that model would be
 * (authorizeCall): the key's `allowed_routes` and model lists (a key's or team's alias counting as the
 * group it names), and LiteLLM's 400 for a name nothing serves. For routes that answer about a model
 * group without calling it (`/utils/supported_openai_params`, `/cost/estimate`).
 */
export async function callableGroup(c: Ctx, state: GatewayState, caller: Caller, requested: string): Promise<DeploymentRef[]> {
  const aliased = aliasOf(caller, requested);
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: aliased ?? requested });
  const { deployments } = resolveGroup(state.config, catalog, aliased ?? requested);
  authorizeCall({ caller, requested, aliased, picked: deployments[0], catalog, path: c.req.path, body: {} });
  return deployments;
}
