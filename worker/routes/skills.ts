import type { Caller } from '../auth/authenticate.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { drainRefused } from '../openai/read-body.ts';
import { recordCreation } from './creation-spend.ts';
import { providerJson, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation } from './owned-objects.ts';
import { type Ctx, homeHeaders, listQuery, namedGroup } from './provider-objects.ts';
import { noSuchSkill, prebuilt, type ReadSkillIds, readSkillOfId, shownSkill, skillHomeOfGroup, skillOfId } from './skill-objects.ts';
import { skillUpload, type SkillUpload } from './skill-uploads.ts';

/**
 * `/v1/skills`: Anthropic's Skills API, as LiteLLM passes it through to the Anthropic account of the model group
 * named (`model` form field, `?model=`, `x-litellm-model`). Made through the gateway, a custom skill's id is the
 * gateway's signed one for the caller (skill-objects.ts), and every later call on it goes to the account it
 * names. Anthropic keeps no owner on a skill, so listing the account's custom skills is the master key's; a
 * key may list Anthropic's prebuilt ones (`source=anthropic`).
 */

/**
 * Who calls, the catalog, and the skill the route's `:id` names (for its owner; anyone else: the 404 of an unknown
 * id). A read (`GET`) may also name an Anthropic prebuilt skill by its own id (readSkillOfId).
 */
export async function skillOfRoute(c: Ctx, method: string): Promise<{ state: GatewayState; caller: Caller; catalog: ModelCatalog; ids: ReadSkillIds }> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  const id = c.req.param('id') ?? '';
  return { state, caller, catalog, ids: method === 'GET' ? readSkillOfId(c, state, caller, catalog, id) : skillOfId(c, state, caller, catalog, id) };
}

/** A key's read of a skill by a provider's id: the skill asked for first, the 404 of an unknown id unless it is prebuilt. */
export async function checkPrebuilt(ids: ReadSkillIds): Promise<void> {
  if (!ids.prebuiltOnly) return;
  const res = await ids.home.send({ method: 'GET', path: `skills/${encodeURIComponent(ids.upstreamId)}`, query: [] });
  const skill = await providerJson(res, 'a skill');
  if (typeof skill !== 'object' || skill === null || !prebuilt(skill as Record<string, unknown>)) throw noSuchSkill(ids.clientId);
}

/**
 * `POST /v1/skills`: the skill's files (multipart, streamed when the group is named outside the body) to the
 * group's Anthropic account. Counted as one request against the key's limits and logged (`acreate_skill`).
 */
export async function createSkill(c: Ctx): Promise<Response> {
  const startedAt = Date.now();
  let known: GatewayState | undefined;
  let pending: SkillUpload['body'] | undefined;
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    known = state;
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const { home, upload } = await skillUpload(c, state, caller, catalog, (group) => skillHomeOfGroup(c, state, caller, catalog, group), false);
    pending = upload.body;
    const requestId = crypto.randomUUID();
    const { tags, release } = await admitCreation(c, state, home, requestId);
    const logged = { callType: 'acreate_skill', caller, deployment: home.deployment, model: home.deployment.model, tags, startedAt } as const;
    try {
      const res = await home.send({ method: 'POST', path: 'skills', query: await listQuery(c, 'skill'), body: upload.body, ...(upload.contentType ? { contentType: upload.contentType } : {}) })
        .catch((err: unknown) => { throw upload.bodyFailure() ?? err; });
      const made = await providerJson(res, 'a new skill');
      const skill = shownSkill(home, made);
      recordCreation(c.env, c.executionCtx, { ...logged, requestId: String((made as { id: unknown }).id) });
      return Response.json(skill, { headers: homeHeaders(home) });
    } catch (err) {
      const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
      recordCreation(c.env, c.executionCtx, { ...logged, requestId, error });
      throw err;
    } finally {
      release();
    }
  } catch (err) {
    if (known) await drainRefused(c.req.raw, known.config, err, pending);
    return errorResponse(err);
  }
}

/**
 * `GET /v1/skills?model=...`: the account's skills for the master key (custom ones by gateway ids, Anthropic's
 * as they are). A key is shown Anthropic's prebuilt skills only, and must ask for them (`source=anthropic`):
 * the account's custom skills are every team's.
 */
export async function listSkills(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const onlyPrebuilt = caller.kind !== 'master';
    if (onlyPrebuilt && c.req.query('source') !== 'anthropic') {
      throw new GatewayError('Listing a provider account\'s custom skills is for the master key: they are every team\'s. A key reaches its own skills by the ids it was given, and may list Anthropic\'s with source=anthropic', {
        status: 403, type: 'permission_denied_error', param: null,
      });
    }
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = skillHomeOfGroup(c, state, caller, catalog, namedGroup(c));
    const res = await home.send({ method: 'GET', path: 'skills', query: await listQuery(c, 'skill') });
    const page = await providerJson(res, 'a page of skills') as Record<string, unknown>;
    const listed = Array.isArray(page.data) ? page.data as unknown[] : [];
    const data = listed
      .filter((skill) => !onlyPrebuilt || (typeof skill === 'object' && skill !== null && prebuilt(skill as Record<string, unknown>)))
      .map((skill) => shownSkill(home, skill));
    return Response.json({ ...page, data }, { headers: homeHeaders(home) });
  } catch (err) {
    return errorResponse(err);
  }
}

/** `GET` and `DELETE /v1/skills/{skill_id}`, for the skill's owner (and a `GET` of an Anthropic prebuilt skill, for any caller). */
export function skillById(method: 'GET' | 'DELETE') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const { ids } = await skillOfRoute(c, method);
      sent.set(ids.upstreamId, ids.clientId);
      const res = await ids.home.send({ method, path: `skills/${encodeURIComponent(ids.upstreamId)}`, query: await listQuery(c, 'skill') });
      const answer = await providerJson(res, method === 'DELETE' ? 'a skill deletion' : 'a skill');
      // A key's read by a provider's id: Anthropic's prebuilt skill only, an account's custom one is nobody's to read so.
      if (ids.prebuiltOnly && (typeof answer !== 'object' || answer === null || !prebuilt(answer as Record<string, unknown>))) throw noSuchSkill(ids.clientId);
      // A deletion names the skill it deleted: the client's id, never the provider's.
      const shown = method === 'DELETE' ? { ...(answer as Record<string, unknown>), id: ids.clientId } : shownSkill(ids.home, answer);
      return Response.json(shown, { headers: homeHeaders(ids.home) });
    } catch (err) {
      return errorResponse(withClientIds(err, sent));
    }
  };
}
