import type { Caller } from '../auth/authenticate.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import {
  checkSkills, type ContainerIds, containerFileId, containerHome, containerHomeOfGroup, createContainerSchema, keepsContainers, shownContainer, targetGroup,
} from './container-objects.ts';
import { sessionPrice } from '../cost/container-price.ts';
import { recordCreation } from './creation-spend.ts';
import { providerJson, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation } from './owned-objects.ts';
import { type Ctx, homeHeaders, homeOfId, listQuery, namedGroup } from './provider-objects.ts';

/**
 * OpenAI's Containers API (code interpreter sessions; LiteLLM's `/v1/containers` routes) in the provider
 * account of a model group's OpenAI or Azure deployment. A container's id names its deployment and its
 * owner, signed, so only the owner (or the master key) reads it, uses it, reaches its files or deletes it;
 * only the master key lists them (a provider's container keeps no owner, no metadata, to list a key's by).
 * Made, a container is billed at once, its session at LiteLLM's price: OpenAI bills the session when the
 * container is made, whether code runs in it or not.
 */

/**
 * Who calls, and the container the route's `:id` names, for its owner (anyone else: the 404 of an unknown id).
 * `known` is given the state once the caller is authenticated (an upload refused after that is read to its end).
 */
export async function containerOfRoute(c: Ctx, known?: { state?: GatewayState }): Promise<{ state: GatewayState; caller: Caller; catalog: ModelCatalog; ids: ContainerIds }> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  if (known) known.state = state;
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  const clientId = c.req.param('id') ?? '';
  const { home, upstreamId } = homeOfId(c, state, caller, catalog, 'container', clientId);
  if (!keepsContainers(home.deployment)) throw new GatewayError(`No such container: ${clientId.slice(0, 200)}`, { status: 404, type: 'not_found_error', param: 'container_id' });
  return { state, caller, catalog, ids: { home: containerHome(home), upstreamId, clientId } };
}

/**
 * `POST /v1/containers`: a container in the account of the model group named (`model` in the body, `?model=`,
 * `x-litellm-model`, or `target_model_names` of one group), else of its first file; every file the caller's
 * own and of that account. Counted as one request against the key's limits, billed its session and logged.
 */
export async function createContainer(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const startedAt = Date.now();
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const body = await readJsonBody(c.req.raw, createContainerSchema, bodyLimit(state.config));
    checkSkills(caller, body.skills);
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const group = namedGroup(c, body.model) ?? targetGroup(body.target_model_names ?? c.req.query('target_model_names'));
    // Named by no group, the container goes where its first file is (as a vector store does): the file's own
    // deployment's account when it keeps containers, else its group's first that does.
    const first = body.file_ids?.[0];
    const fileHome = !group && first && decodeObjectId('file', first) ? homeOfId(c, state, caller, catalog, 'file', first).home : undefined;
    const home = fileHome && keepsContainers(fileHome.deployment)
      ? containerHome(fileHome)
      : containerHomeOfGroup(c, state, caller, catalog, fileHome?.deployment.group ?? group);
    const fileIds = (body.file_ids ?? []).map((id, i) => {
      const upstream = containerFileId(c, state, caller, catalog, home, id, `file_ids.${i}`);
      sent.set(upstream, id);
      return upstream;
    });
    const { model: _m, target_model_names: _t, custom_llm_provider: _p, ...passed } = body;
    const price = sessionPrice(home.deployment, body.memory_limit);
    const requestId = crypto.randomUUID();
    // Held at the session's price, so concurrent creates cannot overspend a budget.
    const { tags, release } = await admitCreation(c, state, home, requestId, price);
    const logged = { callType: 'acreate_container', caller, deployment: home.deployment, model: home.deployment.model, tags, startedAt } as const;
    let spend = 0;
    try {
      const res = await home.send({ method: 'POST', path: 'containers', query: [], body: JSON.stringify({ ...passed, ...(body.file_ids ? { file_ids: fileIds } : {}) }) });
      const made = await providerJson(res, 'a new container');
      const container = shownContainer(home, made);
      spend = price;
      // The row's request_id is the provider's container id, as a video's is.
      recordCreation(c.env, c.executionCtx, { ...logged, requestId: (made as { id: string }).id, spend });
      return Response.json(container, { headers: homeHeaders(home) });
    } catch (err) {
      const failure = withClientIds(err, sent);
      const error = failure instanceof GatewayError ? failure : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
      recordCreation(c.env, c.executionCtx, { ...logged, requestId, error });
      throw err;
    } finally {
      release(spend);
    }
  } catch (err) {
    return errorResponse(withClientIds(err, sent));
  }
}

/**
 * `GET /v1/containers?model=...` (or `x-litellm-model`, `target_model_names`): the account's containers, for the
 * master key. A provider's container keeps no owner (no metadata), so a key cannot be shown its own among the
 * account's: as for files and videos, a key reaches its containers by the ids it was given.
 */
export async function listContainers(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    if (caller.kind !== 'master') {
      throw new GatewayError('Listing a provider account\'s containers is for the master key: they are every team\'s. A key reaches its own containers by the ids it was given', {
        status: 403, type: 'permission_denied_error', param: null,
      });
    }
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = containerHomeOfGroup(c, state, caller, catalog, namedGroup(c) ?? targetGroup(c.req.query('target_model_names')));
    const res = await home.send({ method: 'GET', path: 'containers', query: await listQuery(c, 'container') });
    const list = await providerJson(res, 'a page of containers') as { data?: unknown; has_more?: unknown };
    const data = (Array.isArray(list.data) ? list.data : []).map((container) => shownContainer(home, container));
    return Response.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: list.has_more === true }, { headers: homeHeaders(home) });
  } catch (err) {
    return errorResponse(err);
  }
}

/** `GET` and `DELETE /v1/containers/{id}`, for the container's owner. */
export function containerById(method: 'GET' | 'DELETE') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const { ids } = await containerOfRoute(c);
      sent.set(ids.upstreamId, ids.clientId);
      const res = await ids.home.send({ method, path: `containers/${encodeURIComponent(ids.upstreamId)}`, query: [] });
      if (method === 'DELETE') return deletion(res, ids, 'container.deleted', ids.clientId);
      return Response.json(shownContainer(ids.home, await providerJson(res, 'a container')), { headers: homeHeaders(ids.home) });
    } catch (err) {
      return errorResponse(withClientIds(err, sent));
    }
  };
}

/**
 * A deletion's answer: OpenAI's `{id, object, deleted}` naming the client's id (an empty answer, as the openai
 * SDK allows, made into one), so no provider id reaches the client.
 */
export async function deletion(res: Response, ids: ContainerIds, object: string, clientId: string): Promise<Response> {
  const text = await res.text();
  let deleted = true;
  if (text.trim() !== '') {
    try {
      deleted = (JSON.parse(text) as { deleted?: unknown }).deleted !== false;
    } catch {
      throw new GatewayError(`The provider's answer to a ${object.split('.').slice(0, -1).join(' ')} deletion was not JSON`, { status: 502, type: 'api_error' });
    }
  }
  return Response.json({ id: clientId, object, deleted }, { headers: homeHeaders(ids.home) });
}
