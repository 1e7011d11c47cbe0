import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { SAFE_ID } from '../providers/response-ids.ts';
import type { GatewayState } from '../state.ts';
import { type OwnedObject, shownMetadata } from './owned-objects.ts';
import { type Ctx, homeOfId, type ObjectHome, sameAccount } from './provider-objects.ts';

/**
 * Vector stores, their files, file batches and search results as the client sees them. Only the fields
 * that hold an id are rewritten, and only to ids of the store's own account, signed for the caller: the
 * store's (`id`, `vector_store_id`), its file batches', and its files' (`id`, `file_id`). A key's store
 * holds only files it attached as their owner (the gateway refuses any other), so a file the store names
 * is the caller's. Nothing in text the client or a file's author writes (a store's `name`, `description`,
 * `metadata`, a file's `attributes`, `filename`, search results' `content`, `search_query`) becomes an id
 * the gateway gives out.
 */

export interface VectorStore extends OwnedObject {
  object?: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export const unreadable = (what: string) => new GatewayError(`The provider answered ${what} in a form the gateway does not know`, { status: 502, type: 'api_error' });

/** The provider's answer as an object (a store, a file, a batch, a page), else a 502: nothing unread is passed on. */
export function objectOf(answer: unknown, what: string): Record<string, unknown> {
  if (!isRecord(answer)) throw unreadable(what);
  return answer;
}

/** The provider's id of a file the request names for a store of `store`'s account: the caller's own, else the 404 of an unknown file. */
export function storeFileId(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, store: ObjectHome, id: string): string {
  // The master key may name a provider's own id: it is in the store's account.
  if (caller.kind === 'master' && !decodeObjectId('file', id) && SAFE_ID.test(id)) return id;
  const file = homeOfId(c, state, caller, catalog, 'file', id);
  if (!sameAccount(file.home.deployment, store.deployment)) {
    throw new GatewayError(`File ${id.slice(0, 200)} is in another provider account than the vector store (model group ${store.deployment.group}'s): upload it through a model group of that account`, {
      status: 400, type: 'invalid_request_error', param: 'file_id',
    });
  }
  return file.upstreamId;
}

/** A vector store (or its deletion) as shown: the gateway's id, and without the gateway's metadata. */
export function shownStore(home: ObjectHome, answer: unknown): VectorStore {
  const store = objectOf(answer, 'a vector store');
  const id = typeof store.id === 'string' && store.id !== '' ? home.idFor('vector_store', store.id) : store.id;
  return 'metadata' in store ? { ...store, id, metadata: shownMetadata(store.metadata as VectorStore['metadata']) } : { ...store, id };
}

/** Ids of one store's answers: the store's own as the client named it, its files' and file batches' signed for the caller. */
export interface StoreIds {
  home: ObjectHome;
  /** The provider's id of the store the route names. */
  upstreamId: string;
  /** The id the client named it by. */
  clientId: string;
}

/** The store a file or file batch names: the route's, else a 502 (the provider answered about another). */
function storeId(ids: StoreIds, value: unknown): unknown {
  if (value === undefined) return value;
  if (value !== ids.upstreamId) throw unreadable('a vector store\'s file with another store\'s id');
  return ids.clientId;
}

const fileId = (ids: StoreIds, value: unknown) => (typeof value === 'string' && value !== '' ? ids.home.idFor('file', value) : value);

/** A vector store file (or its deletion) as shown. */
export function shownStoreFile(ids: StoreIds, answer: unknown): Record<string, unknown> {
  const file = objectOf(answer, 'a vector store file');
  return { ...file, id: fileId(ids, file.id), ...('vector_store_id' in file ? { vector_store_id: storeId(ids, file.vector_store_id) } : {}) };
}

/** A file batch as shown. */
export function shownFileBatch(ids: StoreIds, answer: unknown): Record<string, unknown> {
  const batch = objectOf(answer, 'a vector store file batch');
  const id = typeof batch.id === 'string' && batch.id !== '' ? ids.home.idFor('vector_store_file_batch', batch.id) : batch.id;
  return { ...batch, id, ...('vector_store_id' in batch ? { vector_store_id: storeId(ids, batch.vector_store_id) } : {}) };
}

/** A page of the provider's (`{ data: [...] }`), else a 502. */
function pageOf(answer: unknown, what: string): Record<string, unknown> & { data: unknown[] } {
  const page = objectOf(answer, what);
  if (!Array.isArray(page.data)) throw unreadable(what);
  return page as Record<string, unknown> & { data: unknown[] };
}

/** A page of a store's files: each as shown, and the page's cursors the gateway's ids of its first and last. */
export function shownStoreFiles(ids: StoreIds, answer: unknown): Record<string, unknown> {
  const page = pageOf(answer, 'a page of vector store files');
  const data = page.data.map((file) => shownStoreFile(ids, file));
  return { ...page, data, first_id: fileId(ids, page.first_id), last_id: fileId(ids, page.last_id) };
}

/** A page of search results: each result's `file_id` the caller's; the text found is passed as it is. */
export function shownSearch(ids: StoreIds, answer: unknown): Record<string, unknown> {
  const page = pageOf(answer, 'a page of vector store search results');
  return { ...page, data: page.data.map((result) => {
    const found = objectOf(result, 'a vector store search result');
    return { ...found, file_id: fileId(ids, found.file_id) };
  }) };
}
