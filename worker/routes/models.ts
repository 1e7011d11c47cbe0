import type { Context } from 'hono';
import { authenticateRoute } from '../limits/key-store.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { mayCall } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { resolveGroup, visibleAliases } from '../router/resolve-group.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// LiteLLM reports a fixed creation time and owner for every model group.
const CREATED = 1677610602;
const modelObject = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' });

async function callableGroups(c: Ctx): Promise<string[]> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  // model_group_alias names are listed as models (LiteLLM's router lists them), unless `hidden`, once their group exists.
  const aliases = visibleAliases(state.config).filter((name) => !catalog.groups.has(name) && resolveGroup(state.config, catalog, name).deployments.length > 0);
  return [...catalog.groups.keys(), ...aliases].filter((group) => mayCall(caller, group, catalog));
}

/** `GET /v1/models`: the model groups the calling key may use. */
export async function listModels(c: Ctx) {
  return c.json({ object: 'list', data: (await callableGroups(c)).map(modelObject) });
}

/** `GET /v1/models/{id}`: one of them, or 404. */
export async function getModel(c: Ctx) {
  const id = decodeURIComponent(c.req.path.replace(/^(\/v1)?\/models\//, ''));
  if (!(await callableGroups(c)).includes(id)) {
    throw new GatewayError(`The model '${id}' does not exist`, { status: 404, type: 'not_found_error', param: 'model' });
  }
  return c.json(modelObject(id));
}
