import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { SAFE_ID } from '../providers/response-ids.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import type { GatewayState } from '../state.ts';
import { providerJson } from './fine-tuning-objects.ts';
import { admitCreation } from './owned-objects.ts';
import { type Ctx, homeHeaders, homeOfId } from './provider-objects.ts';
import { type StoreIds, storeFileId, shownFileBatch, shownStoreFile, shownStoreFiles } from './vector-store-objects.ts';
import { clientError, storeOfRoute } from './vector-stores.ts';

/**
 * A vector store's files and file batches (OpenAI's `/vector_stores/{id}/files` and `/file_batches`), for
 * the store's owner: every file named must be the caller's own and of the store's account (another
 * owner's is the 404 of an unknown file, before anything reaches the provider).
 */

const record = z.record(z.string(), z.unknown());
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable().optional();

const attachSchema = z.object({ file_id: z.string().min(1), attributes, chunking_strategy: record.optional() });

const batchSchema = z.object({
  file_ids: z.array(z.string().min(1)).max(2000).optional(),
  files: z.array(z.object({ file_id: z.string().min(1), attributes, chunking_strategy: record.optional() })).max(2000).optional(),
  attributes,
  chunking_strategy: record.optional(),
});

type Scope = Awaited<ReturnType<typeof storeOfRoute>>;

/** The provider's id of a file the request names, remembered with the client's for the provider's refusals. */
function fileOf(c: Ctx, scope: Scope, sent: Map<string, string>, id: string): string {
  const upstream = storeFileId(c, scope.state, scope.caller, scope.catalog, scope.ids.home, id);
  sent.set(upstream, id);
  return upstream;
}

/** The provider's id of a file batch of the route's store: one the gateway gave the caller through that store's deployment. */
function batchOf(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, ids: StoreIds, id: string): string {
  if (caller.kind === 'master' && !decodeObjectId('vector_store_file_batch', id) && SAFE_ID.test(id)) return id;
  const batch = homeOfId(c, state, caller, catalog, 'vector_store_file_batch', id);
  if (batch.home.deployment.id !== ids.home.deployment.id) {
    throw new GatewayError(`No such vector store file batch: ${id.slice(0, 200)}`, { status: 404, type: 'not_found_error', param: 'batch_id' });
  }
  return batch.upstreamId;
}

/** A list's query with `after` and `before` (the gateway's file ids) as the provider's. */
function fileListQuery(c: Ctx): [string, string][] {
  return [...new URL(c.req.url).searchParams]
    .filter(([name]) => ['limit', 'order', 'after', 'before', 'filter'].includes(name))
    .map(([name, value]) => [name, name === 'after' || name === 'before' ? decodeObjectId('file', value)?.upstreamId ?? value : value]);
}

/** `POST /v1/vector_stores/{id}/files` (attach one of the caller's files) and `GET` (a page of the store's files). */
export function vectorStoreFiles(method: 'GET' | 'POST') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const scope = await storeOfRoute(c);
      const { ids } = scope;
      sent.set(ids.upstreamId, ids.clientId);
      const path = `vector_stores/${encodeURIComponent(ids.upstreamId)}/files`;
      if (method === 'GET') {
        const res = await ids.home.send({ method, path, query: fileListQuery(c) });
        return Response.json(shownStoreFiles(ids, await providerJson(res, 'a page of vector store files')), { headers: homeHeaders(ids.home) });
      }
      const body = await readJsonBody(c.req.raw, attachSchema, bodyLimit(scope.state.config));
      const file = fileOf(c, scope, sent, body.file_id);
      return Response.json(await attachFile(c, scope.state, ids, { ...body, file_id: file }), { headers: homeHeaders(ids.home) });
    } catch (err) {
      return clientError(err, sent);
    }
  };
}

/**
 * One file attached to a store the caller owns (`file_id` the provider's id of a file already checked as the
 * caller's own, storeFileId), as shown. Attaching adds storage the account is billed for: admitted as a
 * request (limits, budgets, a blocked key). For the attach route and `/v1/rag/ingest`.
 */
export async function attachFile(c: Ctx, state: GatewayState, ids: StoreIds, attach: { file_id: string; attributes?: unknown; chunking_strategy?: unknown }): Promise<Record<string, unknown>> {
  const { release } = await admitCreation(c, state, ids.home, crypto.randomUUID());
  try {
    const res = await ids.home.send({ method: 'POST', path: `vector_stores/${encodeURIComponent(ids.upstreamId)}/files`, query: [], body: JSON.stringify(attach) });
    return shownStoreFile(ids, await providerJson(res, 'a vector store file'));
  } finally {
    release();
  }
}

/** `GET` and `DELETE /v1/vector_stores/{id}/files/{file_id}`: a file of the store, named by the caller's own id. */
export function vectorStoreFile(method: 'GET' | 'DELETE') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const scope = await storeOfRoute(c);
      const { ids } = scope;
      sent.set(ids.upstreamId, ids.clientId);
      const file = fileOf(c, scope, sent, c.req.param('file_id') ?? '');
      const res = await ids.home.send({ method, path: `vector_stores/${encodeURIComponent(ids.upstreamId)}/files/${encodeURIComponent(file)}`, query: [] });
      return Response.json(shownStoreFile(ids, await providerJson(res, 'a vector store file')), { headers: homeHeaders(ids.home) });
    } catch (err) {
      return clientError(err, sent);
    }
  };
}

/** `POST /v1/vector_stores/{id}/file_batches`: several of the caller's files attached at once. */
export async function createFileBatch(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const scope = await storeOfRoute(c);
    const { ids } = scope;
    sent.set(ids.upstreamId, ids.clientId);
    const body = await readJsonBody(c.req.raw, batchSchema, bodyLimit(scope.state.config));
    const upstream = {
      ...body,
      ...(body.file_ids ? { file_ids: body.file_ids.map((id) => fileOf(c, scope, sent, id)) } : {}),
      ...(body.files ? { files: body.files.map((f) => ({ ...f, file_id: fileOf(c, scope, sent, f.file_id) })) } : {}),
    };
    const { release } = await admitCreation(c, scope.state, ids.home, crypto.randomUUID());
    try {
      const res = await ids.home.send({ method: 'POST', path: `vector_stores/${encodeURIComponent(ids.upstreamId)}/file_batches`, query: [], body: JSON.stringify(upstream) });
      return Response.json(shownFileBatch(ids, await providerJson(res, 'a vector store file batch')), { headers: homeHeaders(ids.home) });
    } finally {
      release();
    }
  } catch (err) {
    return clientError(err, sent);
  }
}

/** `GET /v1/vector_stores/{id}/file_batches/{batch_id}`, `POST .../cancel` and `GET .../files`, by the batch id the gateway gave out. */
export function fileBatchById(method: 'GET' | 'POST', suffix: '' | '/cancel' | '/files') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const { state, caller, catalog, ids } = await storeOfRoute(c);
      sent.set(ids.upstreamId, ids.clientId);
      const batchParam = c.req.param('batch_id') ?? '';
      const batch = batchOf(c, state, caller, catalog, ids, batchParam);
      sent.set(batch, batchParam);
      const path = `vector_stores/${encodeURIComponent(ids.upstreamId)}/file_batches/${encodeURIComponent(batch)}${suffix}`;
      const res = await ids.home.send({ method, path, query: suffix === '/files' ? fileListQuery(c) : [], ...(method === 'POST' ? { body: '{}' } : {}) });
      const answer = await providerJson(res, 'a vector store file batch');
      const shown = suffix === '/files' ? shownStoreFiles(ids, answer) : shownFileBatch(ids, answer);
      return Response.json(shown, { headers: homeHeaders(ids.home) });
    } catch (err) {
      return clientError(err, sent);
    }
  };
}
