import type { Context } from 'hono';
import { authenticate } from '../auth/authenticate.ts';
import { LimiterKeyStore } from '../limits/key-store.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { mayCall } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// LiteLLM reports a fixed creation time and owner for every model group.
const CREATED = 1677610602;
const modelObject = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' });

async function callableGroups(c: Ctx): Promise<string[]> {
  const state = await gatewayState(c.env);
  const caller = await authenticate(c.req.raw.headers, { masterKeyHash: state.masterKeyHash, keyHeader: state.keyHeader, keys: new LimiterKeyStore(c.env) });
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  return [...catalog.groups.keys()].filter((group) => mayCall(caller, group, catalog));
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
