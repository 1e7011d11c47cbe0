import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { unitPrice } from '../cost/deployment-cost.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { type Creation, recordCreation } from './creation-spend.ts';
import { providerJson, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation, keptMetadata, listOwned, ownedListAnswer, ownedMetadata, warnIfUnowned } from './owned-objects.ts';
import { type Ctx, homeHeaders, homeOfGroup, homeOfId, namedGroup, type ObjectHome } from './provider-objects.ts';
import { objectOf, type StoreIds, storeFileId, shownSearch, shownStore, type VectorStore } from './vector-store-objects.ts';

/**
 * OpenAI's Vector Stores API (LiteLLM's `/v1/vector_stores` routes) in the provider account of a model
 * group, as files are kept: the store's id names its account and its owner, so only the owner (or the
 * master key) reads, changes, searches or deletes it, and a key lists only its own.
 */

/** OpenAI's SDK sends it on every vector store call; Azure's preview versions ask for it. */
export const VECTOR_STORES_BETA = { 'OpenAI-Beta': 'assistants=v2' };

const record = z.record(z.string(), z.unknown());
/** LiteLLM's routing fields: they name the account and stay here. */
const routing = {
  model: z.string().optional(),
  target_model_names: z.union([z.string(), z.array(z.string())]).optional(),
  custom_llm_provider: z.string().optional(),
};

const createStoreSchema = z.object({
  name: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  file_ids: z.array(z.string().min(1)).max(500).optional(),
  expires_after: record.nullable().optional(),
  chunking_strategy: record.optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  ...routing,
});

const modifyStoreSchema = z.object({
  name: z.string().nullable().optional(),
  expires_after: record.nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  ...routing,
});

const searchSchema = z.object({
  query: z.union([z.string(), z.array(z.string())]),
  filters: record.optional(),
  max_num_results: z.number().int().optional(),
  ranking_options: record.optional(),
  rewrite_query: z.boolean().optional(),
  ...routing,
});

/** The one model group LiteLLM's `target_model_names` names (a comma list, or an array), else a 400. */
function targetGroup(value: unknown): string | undefined {
  const names = (Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : []).map((n) => String(n).trim()).filter(Boolean);
  if (names.length > 1) {
    throw new GatewayError('target_model_names (one vector store in several providers\' accounts) must name one model group here', {
      status: 400, type: 'invalid_request_error', param: 'target_model_names',
    });
  }
  return names[0];
}

/** Who calls, and the store the route's `:id` names, for its owner (anyone else: the 404 of an unknown id). */
export async function storeOfRoute(c: Ctx): Promise<{ state: GatewayState; caller: Caller; catalog: ModelCatalog; ids: StoreIds }> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  const clientId = c.req.param('id') ?? '';
  const { home, upstreamId } = homeOfId(c, state, caller, catalog, 'vector_store', clientId);
  return { state, caller, catalog, ids: { home: withBeta(home), upstreamId, clientId } };
}

/** A provider's refusal with the ids the request sent as the client sent them. */
export const clientError = (err: unknown, sent: Map<string, string>) => errorResponse(withClientIds(err, sent));

/**
 * `POST /v1/vector_stores`: a store in the account of the model group named (`model` in the body, `?model=`,
 * `x-litellm-model`, or `target_model_names` of one group), else of its first file; every file the
 * caller's own and of that account. Counted as one request against the key's limits and logged at no cost.
 */
export async function createVectorStore(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const startedAt = Date.now();
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const body = await readJsonBody(c.req.raw, createStoreSchema, bodyLimit(state.config));
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const group = namedGroup(c, body.model) ?? targetGroup(body.target_model_names ?? c.req.query('target_model_names'));
    // Named by no group, the store goes where its first file is (as a batch goes where its input is).
    const first = body.file_ids?.[0];
    const home = withBeta(!group && first && decodeObjectId('file', first)
      ? homeOfId(c, state, caller, catalog, 'file', first).home
      : homeOfGroup(c, state, caller, catalog, group));
    const fileIds = (body.file_ids ?? []).map((id) => {
      const upstream = storeFileId(c, state, caller, catalog, home, id);
      sent.set(upstream, id);
      return upstream;
    });
    const { model: _m, target_model_names: _t, custom_llm_provider: _p, file_ids: _f, ...fields } = body;
    const store = await newStore(c, state, caller, home, { ...fields, ...(body.file_ids ? { file_ids: fileIds } : {}) }, sent, startedAt);
    return Response.json(shownStore(home, store), { headers: homeHeaders(home) });
  } catch (err) {
    return clientError(err, sent);
  }
}

/** What a new store is made of: OpenAI's fields, its files the provider's ids of the caller's own. */
export interface NewStore {
  name?: string | null | undefined;
  description?: string | null | undefined;
  file_ids?: string[];
  expires_after?: Record<string, unknown> | null | undefined;
  chunking_strategy?: Record<string, unknown> | undefined;
  metadata?: Record<string, string> | null | undefined;
}

/**
 * A store made in `home`'s account for the caller (owned through the gateway's metadata), admitted as one
 * request against the key's limits and logged at no cost: the provider's store, for the routes that show it
 * (`POST /v1/vector_stores`, `/v1/rag/ingest`). `sent` maps provider ids back to the client's in errors.
 */
export async function newStore(c: Ctx, state: GatewayState, caller: Caller, home: ObjectHome, fields: NewStore, sent: Map<string, string>, startedAt = Date.now()): Promise<VectorStore> {
  const metadata = ownedMetadata(fields.metadata, caller, home, 'vector store');
  const requestId = crypto.randomUUID();
  const { tags, release } = await admitCreation(c, state, home, requestId);
  const logged = { callType: 'avector_store_create', caller, deployment: home.deployment, model: home.deployment.model, tags, startedAt } as const;
  try {
    const passed = { name: fields.name, description: fields.description, expires_after: fields.expires_after, chunking_strategy: fields.chunking_strategy };
    const res = await home.send({
      method: 'POST', path: 'vector_stores', query: [],
      body: JSON.stringify({ ...passed, ...(fields.file_ids ? { file_ids: fields.file_ids } : {}), metadata }),
    });
    const store = objectOf(await providerJson(res, 'a new vector store'), 'a new vector store') as VectorStore;
    if (typeof store.id !== 'string') throw new GatewayError('The provider answered the vector store without an id', { status: 502, type: 'api_error' });
    warnIfUnowned(store, home, 'vector store');
    recordCreation(c.env, c.executionCtx, { ...logged, requestId: store.id });
    return store;
  } catch (err) {
    logFailure(c, { ...logged, requestId }, withClientIds(err, sent));
    throw err;
  } finally {
    release();
  }
}

/** Every failure is logged: one the gateway did not foresee as the 500 its client gets. */
function logFailure(c: Ctx, logged: Creation, err: unknown): void {
  const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
  recordCreation(c.env, c.executionCtx, { ...logged, error });
}

/**
 * `GET /v1/vector_stores?model=...` (or `x-litellm-model`, or `target_model_names` of one group): the
 * account's stores the caller owns made through the group's deployment (every one for the master key),
 * paged as batches are.
 */
export async function listVectorStores(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = homeOfGroup(c, state, caller, catalog, namedGroup(c) ?? targetGroup(c.req.query('target_model_names')));
    const page = await listOwned<VectorStore>(c, caller, withBeta(home), 'vector_store', 'vector_stores');
    return ownedListAnswer(home, page.own.map((store) => shownStore(home, store)), page);
  } catch (err) {
    return errorResponse(err);
  }
}

/** A home whose every request carries the vector stores header. */
export function withBeta(home: ObjectHome): ObjectHome {
  return { ...home, send: (request) => home.send({ ...request, headers: { ...VECTOR_STORES_BETA, ...request.headers } }) };
}

/**
 * `GET`, `POST` (modify) and `DELETE /v1/vector_stores/{id}`, for the store's owner. A modification's
 * `metadata` replaces the client's pairs and keeps the gateway's as the store has them.
 */
export function vectorStoreById(method: 'GET' | 'POST' | 'DELETE') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const { state, ids } = await storeOfRoute(c);
      sent.set(ids.upstreamId, ids.clientId);
      const { home } = ids;
      const path = `vector_stores/${encodeURIComponent(ids.upstreamId)}`;
      let body: string | undefined;
      if (method === 'POST') {
        const { model: _m, target_model_names: _t, custom_llm_provider: _p, ...change } = await readJsonBody(c.req.raw, modifyStoreSchema, bodyLimit(state.config));
        if (change.metadata !== undefined) {
          const current = objectOf(await providerJson(await home.send({ method: 'GET', path, query: [] }), 'a vector store'), 'a vector store') as VectorStore;
          change.metadata = keptMetadata(change.metadata, current.metadata, 'vector store');
        }
        body = JSON.stringify(change);
      }
      // A change (its expiry, say, which keeps storage billed) is admitted as a request is: a blocked key, or one over budget, may not.
      const admitted = method === 'POST' ? await admitCreation(c, state, home, crypto.randomUUID()) : undefined;
      try {
        const res = await home.send({ method, path, query: [], ...(body !== undefined ? { body } : {}) });
        return Response.json(shownStore(home, await providerJson(res, 'a vector store')), { headers: homeHeaders(home) });
      } finally {
        admitted?.release();
      }
    } catch (err) {
      return clientError(err, sent);
    }
  };
}

/**
 * `POST /v1/vector_stores/{id}/search`, for the store's owner: counted as one request against the key's
 * limits and logged, at the deployment's `input_cost_per_query` where one is configured, else at no cost
 * (OpenAI bills a store's storage, not its searches). Results name the caller's own file ids.
 */
export async function searchVectorStore(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const startedAt = Date.now();
    const { state, caller, ids } = await storeOfRoute(c);
    sent.set(ids.upstreamId, ids.clientId);
    const { model: _m, target_model_names: _t, custom_llm_provider: _p, ...search } = await readJsonBody(c.req.raw, searchSchema, bodyLimit(state.config));
    const shown = await searchStore(c, state, caller, ids, search, sent, startedAt);
    return Response.json(shown, { headers: homeHeaders(ids.home) });
  } catch (err) {
    return clientError(err, sent);
  }
}

/**
 * One search of a store the caller owns (`ids`, resolved by storeOfRoute or homeOfId), for the search route
 * and `/v1/rag/query`: admitted at the deployment's `input_cost_per_query` (so concurrent searches cannot
 * overspend a budget), logged as `avector_store_search` at that price, failures too. Results name the
 * caller's own file ids.
 */
export async function searchStore(c: Ctx, state: GatewayState, caller: Caller, ids: StoreIds, search: Record<string, unknown>, sent: Map<string, string>, startedAt = Date.now()): Promise<Record<string, unknown>> {
  const { home } = ids;
  const requestId = crypto.randomUUID();
  const price = unitPrice(home.deployment, 'input_cost_per_query') ?? 0;
  const { tags, release } = await admitCreation(c, state, home, requestId, price);
  const logged = { callType: 'avector_store_search', caller, deployment: home.deployment, model: home.deployment.model, tags, startedAt, requestId } as const;
  let spend = 0;
  try {
    const res = await home.send({ method: 'POST', path: `vector_stores/${encodeURIComponent(ids.upstreamId)}/search`, query: [], body: JSON.stringify(search) });
    const shown = shownSearch(ids, await providerJson(res, 'a vector store search'));
    spend = price;
    recordCreation(c.env, c.executionCtx, { ...logged, spend });
    return shown;
  } catch (err) {
    logFailure(c, logged, withClientIds(err, sent));
    throw err;
  } finally {
    release(spend);
  }
}
