/**
 * The fake's Vector Stores API (OpenAI's `/v1/vector_stores`, Azure's `/openai/vector_stores`), served by
 * openai-batches.ts beside its files: a store's files must be files of its account, they are "processed"
 * at once (split into chunks by line), and a search scores each chunk by the query words it holds. Objects,
 * pages and errors in OpenAI's wire format; unknown fields are 400s, as OpenAI's are.
 */
import { respondFromStores, searchStore } from './openai-vector-store-search.ts';
import {
  type Answer, type Call, type FakeFile, invalid, isRecord, metadataError, missing, newId, now, page, unrecognized,
} from './openai-batches-wire.ts';

/** `/vector_stores[/{id}[/(search|files|file_batches)[/{sub}[/(cancel|files)]]]]`, after an account prefix. */
export const VECTOR_STORE_ROUTE = /^(.*?)\/(v1|openai)\/vector_stores(?:\/([^/]+))?(?:\/(search|files|file_batches))?(?:\/([^/]+))?(?:\/(cancel|files))?$/;

type Counts = { in_progress: number; completed: number; failed: number; cancelled: number; total: number };

export interface FakeStoreFile {
  id: string;
  object: 'vector_store.file';
  usage_bytes: number;
  created_at: number;
  vector_store_id: string;
  status: 'in_progress' | 'completed' | 'cancelled' | 'failed';
  last_error: null;
  chunking_strategy: Record<string, unknown>;
  attributes: Record<string, string | number | boolean>;
}

export interface FakeStore {
  id: string;
  object: 'vector_store';
  created_at: number;
  name: string | null;
  description: string | null;
  usage_bytes: number;
  file_counts: Counts;
  status: 'expired' | 'in_progress' | 'completed';
  expires_after: Record<string, unknown> | null;
  expires_at: number | null;
  last_active_at: number;
  metadata: Record<string, string>;
  prefix: string;
  files: Map<string, FakeStoreFile>;
  batches: Map<string, Record<string, unknown>>;
}

const STORE_FIELDS = new Set(['name', 'description', 'file_ids', 'expires_after', 'chunking_strategy', 'metadata']);
const MODIFY_FIELDS = new Set(['name', 'expires_after', 'metadata']);
const ATTACH_FIELDS = new Set(['file_id', 'attributes', 'chunking_strategy']);
const BATCH_FIELDS = new Set(['file_ids', 'files', 'attributes', 'chunking_strategy']);
const AUTO_CHUNKING = { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } };

export function storeView({ prefix: _p, files, batches: _b, ...store }: FakeStore): Omit<FakeStore, 'prefix' | 'files' | 'batches'> {
  return { ...store, file_counts: counts(files) };
}

function counts(files: Map<string, FakeStoreFile>): Counts {
  return { in_progress: 0, completed: files.size, failed: 0, cancelled: 0, total: files.size };
}

export interface VectorStoresApi {
  stores: Map<string, FakeStore>;
  /** Undefined for a method and path the API has no route for. */
  route(method: string, match: RegExpExecArray, call: Call): Answer | undefined;
  /** `POST /v1/responses` with `file_search` tools: the account's stores searched for the input's words. */
  respond(call: Call): Answer;
}

export function vectorStoresApi(files: Map<string, FakeFile>): VectorStoresApi {
  const stores = new Map<string, FakeStore>();
  const notFound = (id: unknown) => invalid(`No vector store found with id '${String(id)}'.`, null, null, 404);
  const unknownFields = (body: Record<string, unknown>, known: Set<string>) => Object.keys(body).find((name) => !known.has(name));
  const fileOf = (prefix: string, id: unknown) => {
    const file = typeof id === 'string' ? files.get(id) : undefined;
    return file?.prefix === prefix ? file : undefined;
  };

  function attach(store: FakeStore, file: FakeFile, attributes: unknown, chunking: unknown): FakeStoreFile {
    const attached: FakeStoreFile = {
      id: file.id, object: 'vector_store.file', usage_bytes: file.bytes, created_at: now(), vector_store_id: store.id, status: 'completed', last_error: null,
      chunking_strategy: isRecord(chunking) ? chunking : AUTO_CHUNKING, attributes: isRecord(attributes) ? (attributes as FakeStoreFile['attributes']) : {},
    };
    store.files.set(file.id, attached);
    store.usage_bytes = [...store.files.values()].reduce((n, f) => n + f.usage_bytes, 0);
    return attached;
  }

  function create(call: Call): Answer {
    const body = call.json ?? {};
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    const unknown = unknownFields(body, STORE_FIELDS);
    if (unknown) return unrecognized(unknown);
    const bad = metadataError(body.metadata);
    if (bad) return bad;
    const ids = body.file_ids === undefined ? [] : body.file_ids;
    if (!Array.isArray(ids)) return invalid("Invalid type for 'file_ids': expected an array of strings.", 'file_ids', 'invalid_type');
    const missingFiles = ids.filter((id) => !fileOf(call.prefix, id));
    if (missingFiles.length) return invalid(`Files ${missingFiles.map(String).join(', ')} were not found.`, 'file_ids', 'file_not_found');
    const store: FakeStore = {
      id: newId('vs_'), object: 'vector_store', created_at: now(), name: typeof body.name === 'string' ? body.name : null,
      description: typeof body.description === 'string' ? body.description : null, usage_bytes: 0, file_counts: counts(new Map()), status: 'completed',
      expires_after: isRecord(body.expires_after) ? body.expires_after : null, expires_at: null, last_active_at: now(),
      metadata: (body.metadata as Record<string, string> | null | undefined) ?? {}, prefix: call.prefix, files: new Map(), batches: new Map(),
    };
    stores.set(store.id, store);
    for (const id of ids) attach(store, fileOf(call.prefix, id)!, undefined, body.chunking_strategy);
    return { status: 200, body: storeView(store) };
  }

  function modify(store: FakeStore, call: Call): Answer {
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    const unknown = unknownFields(body, MODIFY_FIELDS);
    if (unknown) return unrecognized(unknown);
    const bad = metadataError(body.metadata);
    if (bad) return bad;
    if (body.name !== undefined) store.name = body.name as string | null;
    if (body.expires_after !== undefined) store.expires_after = body.expires_after as Record<string, unknown> | null;
    // OpenAI replaces the whole set.
    if (body.metadata !== undefined) store.metadata = (body.metadata as Record<string, string> | null) ?? {};
    return { status: 200, body: storeView(store) };
  }

  function attachOne(store: FakeStore, call: Call): Answer {
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    const unknown = unknownFields(body, ATTACH_FIELDS);
    if (unknown) return unrecognized(unknown);
    if (body.file_id === undefined) return missing('file_id');
    const file = fileOf(call.prefix, body.file_id);
    if (!file) return invalid(`No file found with id '${String(body.file_id)}'.`, 'file_id', null, 404);
    return { status: 200, body: attach(store, file, body.attributes, body.chunking_strategy) };
  }

  function createBatch(store: FakeStore, call: Call): Answer {
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    const unknown = unknownFields(body, BATCH_FIELDS);
    if (unknown) return unrecognized(unknown);
    if ((body.file_ids === undefined) === (body.files === undefined)) return invalid("Exactly one of 'file_ids' or 'files' must be provided.", 'file_ids');
    const entries: Record<string, unknown>[] = Array.isArray(body.files) ? body.files.filter(isRecord) : Array.isArray(body.file_ids) ? body.file_ids.map((file_id) => ({ file_id })) : [];
    const missingFiles = entries.filter((e) => !fileOf(call.prefix, e.file_id));
    if (missingFiles.length) return invalid(`Files ${missingFiles.map((e) => String(e.file_id)).join(', ')} were not found.`, 'file_ids', 'file_not_found');
    for (const e of entries) attach(store, fileOf(call.prefix, e.file_id)!, e.attributes ?? body.attributes, e.chunking_strategy ?? body.chunking_strategy);
    const batch = {
      id: newId('vsfb_'), object: 'vector_store.files_batch', created_at: now(), vector_store_id: store.id, status: 'completed',
      file_counts: { in_progress: 0, completed: entries.length, failed: 0, cancelled: 0, total: entries.length }, fileIds: entries.map((e) => String(e.file_id)),
    };
    store.batches.set(batch.id, batch);
    return { status: 200, body: batchView(batch) };
  }

  const batchView = ({ fileIds: _f, ...batch }: Record<string, unknown>) => batch;

  return {
    stores,
    respond: (call) => respondFromStores(stores, files, call),
    route(method, match, call) {
      const [, , , id, sub, subId, action] = match;
      const store = id === undefined ? undefined : stores.get(decodeURIComponent(id));
      const visible = store?.prefix === call.prefix ? store : undefined;
      const shape = `${method} ${id === undefined ? '' : '{id}'}${sub ? `/${sub}` : ''}${subId === undefined ? '' : '/{sub}'}${action ? `/${action}` : ''}`;
      if (shape === 'POST ') return create(call);
      if (shape === 'GET ') return page([...stores.values()].filter((s) => s.prefix === call.prefix).reverse(), call.query, 20, 100, storeView);
      if (!visible) return shape.startsWith(`${method} {id}`) ? notFound(id) : undefined;
      const attached = subId === undefined ? undefined : visible.files.get(decodeURIComponent(subId));
      const batch = subId === undefined ? undefined : visible.batches.get(decodeURIComponent(subId));
      const noFile = () => invalid(`No file found with id '${String(subId)}' in vector store '${visible.id}'.`, null, null, 404);
      const noBatch = () => invalid(`No file batch found with id '${String(subId)}' in vector store '${visible.id}'.`, null, null, 404);
      switch (shape) {
        case 'GET {id}':
          return { status: 200, body: storeView(visible) };
        case 'POST {id}':
          return modify(visible, call);
        case 'DELETE {id}':
          stores.delete(visible.id);
          return { status: 200, body: { id: visible.id, object: 'vector_store.deleted', deleted: true } };
        case 'POST {id}/search':
          return searchStore(visible, files, call);
        case 'POST {id}/files':
          return attachOne(visible, call);
        case 'GET {id}/files':
          return page([...visible.files.values()].reverse(), call.query, 20, 100, (f) => f);
        case 'GET {id}/files/{sub}':
          return attached ? { status: 200, body: attached } : noFile();
        case 'DELETE {id}/files/{sub}':
          if (!attached) return noFile();
          visible.files.delete(attached.id);
          return { status: 200, body: { id: attached.id, object: 'vector_store.file.deleted', deleted: true } };
        case 'POST {id}/file_batches':
          return createBatch(visible, call);
        case 'GET {id}/file_batches/{sub}':
          return batch ? { status: 200, body: batchView(batch) } : noBatch();
        case 'POST {id}/file_batches/{sub}/cancel':
          return batch ? { status: 200, body: { ...batchView(batch), status: 'cancelled' } } : noBatch();
        case 'GET {id}/file_batches/{sub}/files': {
          if (!batch) return noBatch();
          const ids = batch.fileIds as string[];
          return page([...visible.files.values()].filter((f) => ids.includes(f.id)).reverse(), call.query, 20, 100, (f) => f);
        }
        default:
          return undefined;
      }
    },
  };
}
