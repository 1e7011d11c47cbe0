import type { Caller } from '../auth/authenticate.ts';
import { badRequest, errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { batchLineRewriter, rewrittenFile } from '../openai/batch-lines.ts';
import { filterParts, multipartBoundary } from '../openai/multipart-filter.ts';
import { readFormData } from '../openai/read-form.ts';
import { bodyLimit, drainRefused, tooLarge } from '../openai/read-body.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { type Ctx, homeHeaders, homeOfGroup, homeOfRouteId, listQuery, namedGroup, type ObjectHome } from './provider-objects.ts';

/** An upload read to find its `model` field is held in memory: the bound when max_request_size_mb sets none. */
const DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024;
/** The form fields OpenAI's `POST /files` takes; the gateway's own (`model`, `custom_llm_provider`) stay here. */
const UPSTREAM_FIELDS = /^(file|purpose|expires_after\[(anchor|seconds)\])$/;

/**
 * `POST /v1/files`, as LiteLLM's model-based routing serves it: the file goes to the provider account of
 * the model group named (form field `model`, `?model=` or `x-litellm-model`), for a key that may call
 * that group, and its id comes back naming that account and the caller (object-ids.ts). A batch file's
 * lines are set to the deployment's model, as LiteLLM's are.
 */
export async function createFile(c: Ctx): Promise<Response> {
  let known: GatewayState | undefined;
  const streamed: { body?: ReadableStream<Uint8Array> } = {};
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    known = state;
    const named = namedGroup(c);
    if (named) return await streamedUpload(c, state, caller, named, streamed);
    // Held whole (twice, rewritten): never past DEFAULT_MAX_FILE_BYTES, whatever max_request_size_mb allows.
    const form = await readFormData(c.req.raw, Math.min(bodyLimit(state.config).maxBytes ?? DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_BYTES), 'the file and its purpose');
    if (form.get('target_model_names') !== null) {
      throw new GatewayError('target_model_names (one file in several providers\' accounts) is not supported: name one model group with `model`', {
        status: 400, type: 'invalid_request_error', param: 'target_model_names',
      });
    }
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = homeOfGroup(c, state, caller, catalog, namedGroup(c, form.get('model')));
    const upstream = new FormData();
    for (const [name, value] of form) {
      if (!UPSTREAM_FIELDS.test(name)) continue;
      if (name === 'file' && value instanceof File) upstream.append(name, await rewrittenFile(value, home.deployment.model), value.name);
      else upstream.append(name, value);
    }
    const res = await home.send({ method: 'POST', path: 'files', query: [], body: upstream });
    return withFileIds(home, await res.json());
  } catch (err) {
    // A known caller's refused upload is read to its end first (a client still sending it would see a reset).
    if (known) await drainRefused(c.req.raw, known.config, err, streamed.body);
    return errorResponse(err);
  }
}

/**
 * An upload whose group is named outside its body (`?model=`, `x-litellm-model`) streams through as sent:
 * a file up to the provider's own limit (512 MB at OpenAI), never held in the Worker's memory.
 */
async function streamedUpload(c: Ctx, state: GatewayState, caller: Caller, group: string, streamed: { body?: ReadableStream<Uint8Array> }): Promise<Response> {
  const type = c.req.header('content-type') ?? '';
  const boundary = multipartBoundary(type);
  if (!boundary || !c.req.raw.body) throw badRequest('Request body must be multipart/form-data (the file and its purpose)');
  const { maxBytes } = bodyLimit(state.config);
  if (maxBytes !== undefined && Number(c.req.header('content-length') ?? NaN) > maxBytes) throw tooLarge(maxBytes);
  const home = homeOfGroup(c, state, caller, await currentCatalog(state, c.env, c.executionCtx), group);
  let invalid: Error | undefined;
  // The gateway's own fields (the SDK's extra_body `model` beside the header) stay here; a batch file's lines name the deployment's model.
  const body = filterParts(c.req.raw.body, boundary, {
    keeps: (name) => UPSTREAM_FIELDS.test(name),
    rewrite: (name) => (name === 'file' ? batchLineRewriter(home.deployment.model) : undefined),
    failed: (err) => (invalid = err),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  });
  streamed.body = body;
  try {
    const res = await home.send({ method: 'POST', path: 'files', query: [], body, contentType: type });
    return withFileIds(home, await res.json());
  } catch (err) {
    // The body, not the provider, failed the upload.
    if (invalid instanceof RangeError && maxBytes !== undefined) throw tooLarge(maxBytes);
    if (invalid) throw badRequest(`Invalid multipart/form-data body: ${invalid.message}`);
    throw err;
  }
}

/**
 * `GET /v1/files?model=...`: every file of the account, so the master key's only (the gateway keeps no
 * record of who uploaded which; a key reaches its own through the ids it was given).
 */
export async function listFiles(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    if (caller.kind !== 'master') {
      throw new GatewayError('Listing a provider account\'s files is for the master key: they are every team\'s. A key reads its own files by the ids it was given', {
        status: 403, type: 'permission_denied_error', param: null,
      });
    }
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = homeOfGroup(c, state, caller, catalog, namedGroup(c));
    const res = await home.send({ method: 'GET', path: 'files', query: await listQuery(c, 'file') });
    return withFileIds(home, await res.json());
  } catch (err) {
    return errorResponse(err);
  }
}

/** `GET /v1/files/{id}`, `DELETE /v1/files/{id}` and `GET /v1/files/{id}/content`, by the id the gateway gave out. */
export function fileById(method: 'GET' | 'DELETE', suffix: '' | '/content') {
  return async (c: Ctx): Promise<Response> => {
    try {
      const { home, upstreamId } = await homeOfRouteId(c, 'file');
      const res = await home.send({ method, path: `files/${encodeURIComponent(upstreamId)}${suffix}`, query: [] });
      if (suffix === '/content') {
        // The bytes as the provider sends them, passed on as they arrive (a batch's output can be large).
        return new Response(res.body, { headers: { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream', ...homeHeaders(home) } });
      }
      return withFileIds(home, await res.json());
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * One file uploaded into `home`'s account (`/v1/rag/ingest`'s document, `purpose` as OpenAI takes it): the
 * provider's file id, and the gateway's for the caller.
 */
export async function uploadFile(home: ObjectHome, file: File, purpose: string): Promise<{ upstreamId: string; id: string }> {
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file', file, file.name);
  const res = await home.send({ method: 'POST', path: 'files', query: [], body: form });
  const uploaded = (await res.json()) as { id?: unknown };
  if (typeof uploaded?.id !== 'string' || uploaded.id === '') throw new GatewayError('The provider answered the upload without a file id', { status: 502, type: 'api_error' });
  return { upstreamId: uploaded.id, id: home.idFor('file', uploaded.id) };
}

/** A file object, a deletion or a list with the provider's ids replaced by the gateway's. */
function withFileIds(home: ObjectHome, body: unknown): Response {
  const named = (value: unknown) => (typeof value === 'string' && value !== '' ? home.idFor('file', value) : value);
  if (body && typeof body === 'object') {
    const answer = body as { object?: unknown; id?: unknown; data?: unknown; first_id?: unknown; last_id?: unknown };
    if (Array.isArray(answer.data)) {
      for (const file of answer.data as { id?: unknown }[]) if (file && typeof file === 'object') file.id = named(file.id);
      answer.first_id = named(answer.first_id);
      answer.last_id = named(answer.last_id);
    } else {
      answer.id = named(answer.id);
    }
  }
  return Response.json(body, { headers: homeHeaders(home) });
}
