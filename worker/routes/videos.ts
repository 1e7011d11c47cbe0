import type { Caller } from '../auth/authenticate.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { type CreationCallType, recordCreation } from './creation-spend.ts';
import { providerJson, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation } from './owned-objects.ts';
import { type Ctx, homeHeaders, homeOfId, listQuery, namedGroup, type ObjectHome } from './provider-objects.ts';
import {
  billedSeconds, pricePerSecond, readRemixPrompt, readVideoRequest, referenceFileId, shownVideo, upstreamCreate, videoHome, videoHomeOfGroup,
} from './video-objects.ts';

/**
 * OpenAI's Videos API (Sora; LiteLLM's `/v1/videos` routes) in the provider account of a model group's
 * video deployment. A video's id names its deployment and its owner, signed, so only the owner (or the
 * master key) reads, downloads, remixes or deletes it; only the master key lists them (a provider's video keeps
 * no owner to list a key's by). Made (or remixed), a video
 * is billed at once, its seconds at the deployment's price: OpenAI bills the seconds asked for when the job
 * is accepted, so the cost is known then, unlike a batch's or a background response's tokens.
 */

/** The video the route's `:id` names, for its owner (anyone else: the 404 of an unknown id). */
async function videoOfRoute(c: Ctx): Promise<{ state: GatewayState; caller: Caller; home: ObjectHome; upstreamId: string; clientId: string }> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const clientId = c.req.param('id') ?? '';
  const { home, upstreamId } = homeOfId(c, state, caller, await currentCatalog(state, c.env, c.executionCtx), 'video', clientId);
  return { state, caller, home: videoHome(home), upstreamId, clientId };
}

interface Making {
  callType: CreationCallType;
  state: GatewayState;
  caller: Caller;
  home: ObjectHome;
  startedAt: number;
  requested: string | number | undefined;
  sent: Map<string, string>;
  send(): Promise<Response>;
}

/**
 * Makes a video as one request against the key's limits (a blocked key, or one over a budget, is
 * refused as a call is), billed its seconds at the deployment's price and logged; a refusal is logged
 * as a failure and costs nothing.
 */
async function makeVideo(c: Ctx, making: Making): Promise<Response> {
  const { home, caller } = making;
  const requestId = crypto.randomUUID();
  const { tags, release } = await admitCreation(c, making.state, home, requestId);
  const logged = { callType: making.callType, caller, deployment: home.deployment, model: home.deployment.model, tags, startedAt: making.startedAt } as const;
  let spend = 0;
  try {
    const video = await providerJson(await making.send(), 'a new video');
    const shown = shownVideo(home, video);
    const made = video as Record<string, unknown> & { id: string };
    spend = billedSeconds(made, making.requested) * pricePerSecond(home.deployment);
    recordCreation(c.env, c.executionCtx, { ...logged, requestId: made.id, spend });
    return Response.json(shown, { headers: homeHeaders(home) });
  } catch (err) {
    const failure = withClientIds(err, making.sent);
    const error = failure instanceof GatewayError ? failure : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
    recordCreation(c.env, c.executionCtx, { ...logged, requestId, error });
    throw failure;
  } finally {
    release(spend);
  }
}

/**
 * `POST /v1/videos`: a video made by the video deployment of the group `model` names (or `?model=`,
 * `x-litellm-model`), from JSON or a form; a reference file by id must be the caller's own of that account.
 */
export async function createVideo(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const startedAt = Date.now();
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const request = await readVideoRequest(c.req.raw, state);
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = videoHomeOfGroup(c, state, caller, catalog, namedGroup(c, request.model));
    const named = request.input_reference?.file_id;
    const fileId = named ? referenceFileId(c, state, caller, catalog, home, named) : undefined;
    if (named && fileId) sent.set(fileId, named);
    const { body } = upstreamCreate(request, home.deployment.model, fileId);
    return await makeVideo(c, {
      callType: 'avideo_generation', state, caller, home, startedAt, requested: request.seconds, sent,
      send: () => home.send({ method: 'POST', path: 'videos', query: [], body }),
    });
  } catch (err) {
    return errorResponse(withClientIds(err, sent));
  }
}

/** `POST /v1/videos/{id}/remix`: a new video from the caller's own, in its account, billed as a new one. */
export async function remixVideo(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  try {
    const startedAt = Date.now();
    const { state, caller, home, upstreamId, clientId } = await videoOfRoute(c);
    sent.set(upstreamId, clientId);
    const prompt = await readRemixPrompt(c.req.raw, state);
    return await makeVideo(c, {
      callType: 'avideo_remix', state, caller, home, startedAt, requested: undefined, sent,
      send: () => home.send({ method: 'POST', path: `videos/${encodeURIComponent(upstreamId)}/remix`, query: [], body: JSON.stringify({ prompt }) }),
    });
  } catch (err) {
    return errorResponse(withClientIds(err, sent));
  }
}

/** `GET` and `DELETE /v1/videos/{id}`, for the video's owner. */
export function videoById(method: 'GET' | 'DELETE') {
  return async (c: Ctx): Promise<Response> => {
    try {
      const { home, upstreamId } = await videoOfRoute(c);
      const res = await home.send({ method, path: `videos/${encodeURIComponent(upstreamId)}`, query: [] });
      const shown = shownVideo(home, await providerJson(res, 'a video'));
      return Response.json(shown, { headers: homeHeaders(home) });
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * `GET /v1/videos/{id}/content?variant=video|thumbnail|spritesheet`, for the video's owner: the provider's
 * bytes passed on as they arrive (an MP4 is not held in the Worker's memory), with its type and length.
 */
export async function videoContent(c: Ctx): Promise<Response> {
  try {
    const { home, upstreamId } = await videoOfRoute(c);
    const variant = c.req.query('variant');
    const res = await home.send({
      method: 'GET', path: `videos/${encodeURIComponent(upstreamId)}/content`, query: variant ? [['variant', variant]] : [], headers: { accept: '*/*' },
    });
    const headers: Record<string, string> = { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream', ...homeHeaders(home) };
    const length = res.headers.get('content-length');
    if (length) headers['content-length'] = length;
    return new Response(res.body, { headers });
  } catch (err) {
    return errorResponse(err);
  }
}

/**
 * `GET /v1/videos?model=...` (or `x-litellm-model`): the group's video deployment's videos, for the master key.
 * A provider's video keeps no owner (no metadata), so a key cannot be shown its own among the account's: as for
 * files, a key reads its videos by the ids it was given.
 */
export async function listVideos(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    if (caller.kind !== 'master') {
      throw new GatewayError('Listing a provider account\'s videos is for the master key: they are every team\'s. A key reads its own videos by the ids it was given', {
        status: 403, type: 'permission_denied_error', param: null,
      });
    }
    const home = videoHomeOfGroup(c, state, caller, await currentCatalog(state, c.env, c.executionCtx), namedGroup(c));
    const res = await home.send({ method: 'GET', path: 'videos', query: await listQuery(c, 'video') });
    const list = await providerJson(res, 'a page of videos') as { data?: unknown; has_more?: unknown; first_id?: unknown; last_id?: unknown };
    const data = (Array.isArray(list.data) ? list.data : []).filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string');
    const shown = data.map((video) => shownVideo(home, video) as { id: string });
    return Response.json({ object: 'list', data: shown, first_id: shown[0]?.id ?? null, last_id: shown.at(-1)?.id ?? null, has_more: list.has_more === true }, { headers: homeHeaders(home) });
  } catch (err) {
    return errorResponse(err);
  }
}
