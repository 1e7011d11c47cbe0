import { z } from 'zod';
import { badRequest } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { readFormData } from '../openai/read-form.ts';
import { validated } from '../proxy/call-helpers.ts';
import { gatewayState } from '../state.ts';
import { uploadFile } from '../routes/files.ts';
import { type Ctx, homeHeaders, homeOfGroup, homeOfId, namedGroup, type ObjectHome } from '../routes/provider-objects.ts';
import { type StoreIds, storeFileId } from '../routes/vector-store-objects.ts';
import { attachFile } from '../routes/vector-store-files.ts';
import { base64Bytes } from './base64.ts';
import { clientError, newStore, withBeta } from '../routes/vector-stores.ts';

/**
 * LiteLLM's `POST /v1/rag/ingest` (and `/rag/ingest`): a document uploaded into a model group's provider
 * account and attached to one of the caller's vector stores (a new one unless `vector_store_id` names the
 * caller's own), where the provider chunks and embeds it, as LiteLLM's OpenAI ingestion does. Built on the
 * Files and Vector Stores routes' own steps, so the ids returned are the gateway's, owned by the caller,
 * and the store and attachment are admitted and logged as those routes' are.
 */

/** A multipart upload read whole: the bound when max_request_size_mb sets none. */
const DEFAULT_MAX_DOCUMENT_BYTES = 25 * 1024 * 1024;
/**
 * A base64 document in JSON: the body's text, the parsed string and the decoded bytes are all in memory at
 * once (an isolate has 128 MB), so a JSON document is held to 10 MB decoded; larger ones go as a multipart upload.
 */
export const MAX_BASE64_DOCUMENT_BYTES = 10 * 1024 * 1024;
/** The JSON body around such a document: base64's 4/3, and room for the rest of the request. */
const MAX_BASE64_BODY_BYTES = Math.ceil(MAX_BASE64_DOCUMENT_BYTES / 3) * 4 + 64 * 1024;
/** LiteLLM's name for a store the request does not name. */
const DEFAULT_STORE_NAME = 'litellm-rag-ingest';
/** Vector store backends of LiteLLM's that are not a model group's provider account here. */
const OTHER_BACKENDS = new Set(['bedrock', 'vertex_ai', 'gemini', 's3_vectors', 'milvus', 'ragflow']);

const record = z.record(z.string(), z.unknown());

const optionsSchema = z.looseObject({
  name: z.string().max(256).optional(),
  vector_store: z.looseObject({
    custom_llm_provider: z.string().optional(),
    vector_store_id: z.string().min(1).optional(),
    /** The model group whose provider account keeps a new store (Tollgate's: LiteLLM names credentials instead). */
    model: z.string().min(1).optional(),
    ttl_days: z.number().int().positive().optional(),
  }),
  // LiteLLM's {chunk_size, chunk_overlap}, or OpenAI's own ({type: 'auto'} / {type: 'static', static: {...}}).
  chunking_strategy: record.optional(),
});

const ingestSchema = z.object({
  file: z.object({ filename: z.string().min(1).max(512), content: z.string().min(1), content_type: z.string().optional() }).optional(),
  file_url: z.string().optional(),
  file_id: z.string().min(1).optional(),
  ingest_options: optionsSchema,
});

type IngestRequest = z.output<typeof ingestSchema>;

/** The request and its document: JSON (the file base64 in `file`), or a form with `file` and the JSON in `request` (or `ingest_options`). */
async function readIngest(c: Ctx, maxBytes: number): Promise<{ request: IngestRequest; document?: File }> {
  if (!/^multipart\/form-data/i.test(c.req.header('content-type') ?? '')) {
    const request = await readJsonBody(c.req.raw, ingestSchema, { maxBytes: Math.min(maxBytes, MAX_BASE64_BODY_BYTES) });
    const file = request.file;
    // The base64 text is dropped once decoded: only the bytes stay in memory.
    delete request.file;
    return { request, ...(file ? { document: decodedFile(file) } : {}) };
  }
  const form = await readFormData(c.req.raw, maxBytes, 'the file and its ingest_options');
  const json = (name: string): Record<string, unknown> | undefined => {
    const text = form.get(name);
    if (typeof text !== 'string') return undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch { /* the 400 below */ }
    throw badRequest(`The form field ${name} must hold a JSON object`, name);
  };
  const given = json('request') ?? {};
  const ingestOptions = json('ingest_options');
  const request = validated(ingestSchema, { ...given, ...(ingestOptions ? { ingest_options: ingestOptions } : {}) }) as IngestRequest;
  const file = form.get('file');
  return { request, ...(file instanceof File ? { document: file } : {}) };
}

function decodedFile(file: NonNullable<IngestRequest['file']>): File {
  let bytes: Uint8Array;
  try {
    bytes = base64Bytes(/\s/.test(file.content) ? file.content.replace(/\s+/g, '') : file.content);
  } catch {
    throw badRequest('file.content must be the file\'s bytes in base64', 'file.content');
  }
  return new File([bytes], file.filename, { type: file.content_type ?? 'application/octet-stream' });
}

/** OpenAI's bounds on a static strategy: 100 to 4096 tokens a chunk, an overlap of at most half of it. */
const MIN_CHUNK_TOKENS = 100;
const MAX_CHUNK_TOKENS = 4096;

/**
 * LiteLLM's `{chunk_size, chunk_overlap}` as OpenAI's static strategy; OpenAI's own passed as it is. A static
 * strategy out of OpenAI's bounds is a 400 here, before a store is made or a document uploaded.
 */
export function openaiChunking(strategy: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const param = 'ingest_options.chunking_strategy';
  if (!strategy) return strategy;
  let size: unknown;
  let overlap: unknown;
  if (typeof strategy.type === 'string') {
    if (strategy.type !== 'static') return strategy;
    const fixed = strategy.static as Record<string, unknown> | undefined;
    size = fixed?.max_chunk_size_tokens;
    overlap = fixed?.chunk_overlap_tokens;
  } else {
    size = strategy.chunk_size;
    overlap = strategy.chunk_overlap ?? 200;
    if (typeof size !== 'number' || typeof overlap !== 'number') {
      throw badRequest('ingest_options.chunking_strategy takes chunk_size and chunk_overlap (numbers), or OpenAI\'s {type: "auto" | "static", ...}', param);
    }
  }
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_CHUNK_TOKENS || size > MAX_CHUNK_TOKENS) {
    throw badRequest(`ingest_options.chunking_strategy: the chunk size must be a whole number of tokens from ${MIN_CHUNK_TOKENS} to ${MAX_CHUNK_TOKENS}`, param);
  }
  if (typeof overlap !== 'number' || !Number.isInteger(overlap) || overlap < 0 || overlap > size / 2) {
    throw badRequest('ingest_options.chunking_strategy: the chunk overlap must be a whole number of tokens, 0 to half the chunk size', param);
  }
  return typeof strategy.type === 'string' ? strategy : { type: 'static', static: { max_chunk_size_tokens: size, chunk_overlap_tokens: overlap } };
}

/** `POST /v1/rag/ingest`: `{id, status, vector_store_id, file_id}`, LiteLLM's answer, with the gateway's ids. */
export async function ragIngest(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const startedAt = Date.now();
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const limit = bodyLimit(state.config).maxBytes;
    const { request, document } = await readIngest(c, Math.min(limit ?? DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_DOCUMENT_BYTES));
    const options = request.ingest_options;
    const target = options.vector_store;
    if (request.file_url !== undefined) {
      // Fetching a URL the client names would let any key make the gateway reach hosts behind it (SSRF).
      throw badRequest('file_url is not supported here: send the document itself (file, base64) or the id of a file you uploaded (file_id)', 'file_url');
    }
    if ([document, request.file_id].filter((f) => f !== undefined).length !== 1) {
      throw badRequest('Send one document: file (base64 content, or a multipart upload) or file_id', 'file');
    }
    const provider = target.custom_llm_provider;
    if (provider && OTHER_BACKENDS.has(provider)) {
      throw badRequest(`Vector stores of ${provider} are not supported here: documents go into the vector stores of a model group's provider account (OpenAI, Azure OpenAI or an OpenAI-compatible server)`, 'ingest_options.vector_store.custom_llm_provider');
    }
    const chunking = openaiChunking(options.chunking_strategy);
    const catalog = await currentCatalog(state, c.env, c.executionCtx);

    // The caller's own store (anyone else's: the 404 of an unknown id), else a new one in the named group's account.
    let home: ObjectHome;
    let ids: StoreIds | undefined;
    if (target.vector_store_id) {
      const found = homeOfId(c, state, caller, catalog, 'vector_store', target.vector_store_id, target.model);
      home = found.home;
      ids = { home: withBeta(found.home), upstreamId: found.upstreamId, clientId: target.vector_store_id };
      sent.set(found.upstreamId, target.vector_store_id);
    } else {
      home = homeOfGroup(c, state, caller, catalog, namedGroup(c, target.model));
    }
    if (provider && provider !== home.deployment.provider) {
      throw badRequest(`custom_llm_provider ${provider} is not the provider of model group ${home.deployment.group} (${home.deployment.provider})`, 'ingest_options.vector_store.custom_llm_provider');
    }

    const given = request.file_id ? storeFileId(c, state, caller, catalog, home, request.file_id) : undefined;
    if (given) sent.set(given, request.file_id!);

    // The store first: a key refused a new store (a budget, say) has uploaded nothing.
    let created: string | undefined;
    if (!ids) {
      const beta = withBeta(home);
      const expires = target.ttl_days ? { anchor: 'last_active_at', days: target.ttl_days } : undefined;
      const store = await newStore(c, state, caller, beta, { name: options.name ?? DEFAULT_STORE_NAME, ...(expires ? { expires_after: expires } : {}) }, sent, startedAt);
      created = store.id as string;
      ids = { home: beta, upstreamId: created, clientId: beta.idFor('vector_store', created) };
      sent.set(created, ids.clientId);
    }
    let uploaded: string | undefined;
    let attached: Record<string, unknown>;
    let file: { upstreamId: string; id: string };
    try {
      file = given ? { upstreamId: given, id: request.file_id! } : await uploadFile(home, document!, 'assistants');
      if (!given) uploaded = file.upstreamId;
      sent.set(file.upstreamId, file.id);
      attached = await attachFile(c, state, ids, { file_id: file.upstreamId, ...(chunking ? { chunking_strategy: chunking } : {}) });
    } catch (err) {
      // What this request made and could not finish is in no list of the caller's: neither is left behind.
      const discard = (path: string) => c.executionCtx.waitUntil(ids!.home.send({ method: 'DELETE', path, query: [] }).catch(() => undefined));
      if (uploaded) discard(`files/${encodeURIComponent(uploaded)}`);
      if (created) discard(`vector_stores/${encodeURIComponent(created)}`);
      throw err;
    }
    // The store and file stay the caller's either way: a failed indexing says why beside their ids.
    const failed = attached.status === 'failed' || attached.status === 'cancelled';
    return Response.json({
      id: `ingest_${crypto.randomUUID()}`, status: failed ? 'failed' : 'completed', vector_store_id: ids.clientId, file_id: file.id,
      ...(failed ? { error: attached.last_error ?? null } : {}),
    }, { headers: homeHeaders(home) });
  } catch (err) {
    return clientError(err, sent);
  }
}
