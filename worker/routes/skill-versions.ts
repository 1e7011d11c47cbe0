import { errorResponse } from '../errors.ts';
import { drainRefused } from '../openai/read-body.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { homeHeaders, listQuery, type Ctx } from './provider-objects.ts';
import { providerJson, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation } from './owned-objects.ts';
import { readSkillOfId, type SkillIds, shownVersion, skillOfId } from './skill-objects.ts';
import { skillUpload, type SkillUpload } from './skill-uploads.ts';
import { checkPrebuilt, skillOfRoute } from './skills.ts';
import { objectOf, unreadable } from './vector-store-objects.ts';

/**
 * A skill's versions (`/v1/skills/{skill_id}/versions...`, Anthropic's Skills API), reached only under the
 * skill's gateway id, so by its owner alone (an Anthropic prebuilt skill's, by its own id, read by any caller): a version's own id (Anthropic's timestamp) names nothing outside
 * its skill, and each answer's `skill_id` is the client's.
 */

/** `POST` (new files, streamed to the skill's account, counted against the key's limits) and `GET` (a page) of `/v1/skills/{skill_id}/versions`. */
export function skillVersions(method: 'GET' | 'POST') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    let known: GatewayState | undefined;
    let pending: SkillUpload['body'] | undefined;
    try {
      const state = await gatewayState(c.env);
      const caller = await authenticateRoute(c, state);
      known = state;
      const catalog = await currentCatalog(state, c.env, c.executionCtx);
      const id = c.req.param('id') ?? '';
      const ids = method === 'GET' ? readSkillOfId(c, state, caller, catalog, id) : skillOfId(c, state, caller, catalog, id);
      sent.set(ids.upstreamId, ids.clientId);
      await checkPrebuilt(ids);
      const path = `skills/${encodeURIComponent(ids.upstreamId)}/versions`;
      const query = await listQuery(c, 'skill');
      if (method === 'GET') {
        const res = await ids.home.send({ method, path, query });
        return Response.json(shownPage(ids, await providerJson(res, 'a page of skill versions')), { headers: homeHeaders(ids.home) });
      }
      const { upload } = await skillUpload(c, state, caller, catalog, () => ids.home, true);
      pending = upload.body;
      const { release } = await admitCreation(c, state, ids.home, crypto.randomUUID());
      try {
        const res = await ids.home.send({ method, path, query, body: upload.body, ...(upload.contentType ? { contentType: upload.contentType } : {}) })
          .catch((err: unknown) => { throw upload.bodyFailure() ?? err; });
        return Response.json(shownVersion(ids, await providerJson(res, 'a new skill version')), { headers: homeHeaders(ids.home) });
      } finally {
        release();
      }
    } catch (err) {
      // A known caller's refused upload is read to its end first, as a create's is.
      if (method === 'POST' && known) await drainRefused(c.req.raw, known.config, err, pending);
      return errorResponse(withClientIds(err, sent));
    }
  };
}

/** `GET` and `DELETE /v1/skills/{skill_id}/versions/{version}`, and `GET .../content` (the version's zip, streamed). */
export function skillVersion(method: 'GET' | 'DELETE', suffix: '' | '/content') {
  return async (c: Ctx): Promise<Response> => {
    const sent = new Map<string, string>();
    try {
      const { ids } = await skillOfRoute(c, method);
      sent.set(ids.upstreamId, ids.clientId);
      await checkPrebuilt(ids);
      const path = `skills/${encodeURIComponent(ids.upstreamId)}/versions/${encodeURIComponent(c.req.param('version') ?? '')}${suffix}`;
      const res = await ids.home.send({ method, path, query: await listQuery(c, 'skill') });
      if (suffix === '/content') {
        return new Response(res.body, { headers: { 'content-type': res.headers.get('content-type') ?? 'application/zip', ...homeHeaders(ids.home) } });
      }
      return Response.json(shownVersion(ids, await providerJson(res, 'a skill version')), { headers: homeHeaders(ids.home) });
    } catch (err) {
      return errorResponse(withClientIds(err, sent));
    }
  };
}

function shownPage(ids: SkillIds, answer: unknown): Record<string, unknown> {
  const page = objectOf(answer, 'a page of skill versions');
  if (!Array.isArray(page.data)) throw unreadable('a page of skill versions');
  return { ...page, data: page.data.map((version) => shownVersion(ids, version)) };
}
