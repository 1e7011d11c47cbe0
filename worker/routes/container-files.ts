import { badRequest, errorResponse, GatewayError } from '../errors.ts';
import { filterParts, multipartBoundary } from '../openai/multipart-filter.ts';
import { bodyLimit, drainRefused, readJsonBody, tooLarge } from '../openai/read-body.ts';
import { SAFE_ID } from '../providers/response-ids.ts';
import { containerFileId, containerFileSchema, shownContainerFile, shownContainerFiles } from './container-objects.ts';
import { containerOfRoute, deletion } from './containers.ts';
import { providerJson, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation } from './owned-objects.ts';
import { type Ctx, homeHeaders } from './provider-objects.ts';

/**
 * A container's files (OpenAI's `/containers/{id}/files`), for the container's owner: reached only under the
 * container's gateway id, so a file's own `cfile_` id (the provider's) opens nothing without it. A file copied
 * in by `file_id` must be the caller's own gateway file of the container's account.
 */

type Scope = Awaited<ReturnType<typeof containerOfRoute>>;
/** What a refused upload needs to be read to its end: the state once the caller is known, and the body as it would have gone on. */
type Refusable = { state?: Scope['state']; pending?: ReadableStream<Uint8Array> };

/** The path of the route's container's files (and of one of them, named by the provider's id). */
function filesPath(scope: Scope, fileId?: string): string {
  const base = `containers/${encodeURIComponent(scope.ids.upstreamId)}/files`;
  if (fileId === undefined) return base;
  if (!SAFE_ID.test(fileId)) throw new GatewayError(`No such container file: ${fileId.slice(0, 200)}`, { status: 404, type: 'not_found_error', param: 'file_id' });
  return `${base}/${encodeURIComponent(fileId)}`;
}

/** A list's query: OpenAI's paging parameters only (a container file's cursor is the provider's own `cfile_` id). */
function fileListQuery(c: Ctx): [string, string][] {
  return [...new URL(c.req.url).searchParams].filter(([name]) => ['limit', 'order', 'after', 'before'].includes(name));
}

/**
 * `POST /v1/containers/{id}/files`: a file copied in from the caller's own (`{file_id}`, JSON), or uploaded
 * (multipart `file`, streamed through as it arrives, the gateway's own fields dropped). Admitted as one request
 * against the key's limits (it adds to what the account keeps), not logged.
 */
async function addFile(c: Ctx, scope: Scope, sent: Map<string, string>, known: Refusable): Promise<Response> {
  const { ids, state } = scope;
  const type = c.req.header('content-type') ?? '';
  const boundary = multipartBoundary(type);
  let send: () => Promise<Response>;
  let invalid: Error | undefined;
  const { maxBytes } = bodyLimit(state.config);
  if (/^multipart\/form-data/i.test(type)) {
    if (!boundary || !c.req.raw.body) throw badRequest('Request body must be multipart/form-data with the file');
    if (maxBytes !== undefined && Number(c.req.header('content-length') ?? NaN) > maxBytes) throw tooLarge(maxBytes);
    const body = filterParts(c.req.raw.body, boundary, { keeps: (name) => name === 'file', failed: (err) => (invalid = err), ...(maxBytes !== undefined ? { maxBytes } : {}) });
    known.pending = body;
    send = () => ids.home.send({ method: 'POST', path: filesPath(scope), query: [], body, contentType: type });
  } else {
    const body = await readJsonBody(c.req.raw, containerFileSchema, bodyLimit(state.config));
    const file = containerFileId(c, state, scope.caller, scope.catalog, ids.home, body.file_id, 'file_id');
    sent.set(file, body.file_id);
    send = () => ids.home.send({ method: 'POST', path: filesPath(scope), query: [], body: JSON.stringify({ file_id: file }) });
  }
  const { release } = await admitCreation(c, state, ids.home, crypto.randomUUID());
  try {
    const res = await send();
    return Response.json(shownContainerFile(ids, await providerJson(res, 'a container file')), { headers: homeHeaders(ids.home) });
  } catch (err) {
    // The body, not the provider, failed the upload.
    if (invalid instanceof RangeError && maxBytes !== undefined) throw tooLarge(maxBytes);
    if (invalid) throw badRequest(`Invalid multipart/form-data body: ${invalid.message}`);
    throw err;
  } finally {
    release();
  }
}

/** `POST` (add a file) and `GET` (a page of its files) `/v1/containers/{id}/files`, for the container's owner. */
export function containerFiles(method: 'GET' | 'POST') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    const known: Refusable = {};
    try {
      const scope = await containerOfRoute(c, known);
      const { ids } = scope;
      sent.set(ids.upstreamId, ids.clientId);
      if (method === 'POST') return await addFile(c, scope, sent, known);
      const res = await ids.home.send({ method, path: filesPath(scope), query: fileListQuery(c) });
      return Response.json(shownContainerFiles(ids, await providerJson(res, 'a page of container files')), { headers: homeHeaders(ids.home) });
    } catch (err) {
      // A known caller's refused upload is read to its end first (a client still sending it would see a reset).
      if (method === 'POST' && known.state) await drainRefused(c.req.raw, known.state.config, err, known.pending);
      return errorResponse(withClientIds(err, sent));
    }
  };
}

/**
 * `GET` and `DELETE /v1/containers/{id}/files/{file_id}`, and `GET .../content` (the provider's bytes passed on
 * as they arrive, with their type and length), for the container's owner.
 */
export function containerFile(method: 'GET' | 'DELETE', suffix: '' | '/content') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const scope = await containerOfRoute(c);
      const { ids } = scope;
      sent.set(ids.upstreamId, ids.clientId);
      const fileId = c.req.param('file_id') ?? '';
      const res = await ids.home.send({ method, path: `${filesPath(scope, fileId)}${suffix}`, query: [], ...(suffix ? { headers: { accept: '*/*' } } : {}) });
      if (suffix === '/content') {
        const headers: Record<string, string> = { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream', ...homeHeaders(ids.home) };
        const length = res.headers.get('content-length');
        if (length) headers['content-length'] = length;
        return new Response(res.body, { headers });
      }
      if (method === 'DELETE') return await deletion(res, ids, 'container.file.deleted', fileId);
      return Response.json(shownContainerFile(ids, await providerJson(res, 'a container file')), { headers: homeHeaders(ids.home) });
    } catch (err) {
      return errorResponse(withClientIds(err, sent));
    }
  };
}
