import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { laterWorkDeleted, laterWorkSeen } from '../jobs/later-work-client.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { authorizeStoredModel } from '../proxy/call-access.ts';
import { requestTimeoutMs } from '../proxy/call-helpers.ts';
import { withoutProviderFileSearchIds } from '../providers/file-search-ids.ts';
import { decodeResponseId, managedResponseId, ownsResponse } from '../providers/response-ids.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { deploymentByStoredId } from '../router/resolve-group.ts';
import type { StoredResponseRequest } from '../providers/types.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * A response a provider stored, by the id the gateway gave it (response-ids.ts), as LiteLLM serves them:
 * `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` and
 * `POST /v1/responses/{id}/cancel`, each sent to the deployment the id names, with its credentials,
 * for a key that may call that deployment's model group. The answer is the provider's, the response's
 * own id the gateway's again; for a virtual key without the provider's ids of the `file_search` stores
 * and files (the master key's as the provider has them). Not counted, but a background response seen
 * over is billed then (once).
 */
export function storedResponse(method: StoredResponseRequest['method'], suffix: StoredResponseRequest['suffix']) {
  return async (c: Ctx): Promise<Response> => {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const id = c.req.param('id') ?? '';
    const query = [...new URL(c.req.url).searchParams];
    if (query.some(([name, value]) => name === 'stream' && value !== 'false')) {
      throw new GatewayError('stream is not supported here: read a background response without it', { status: 400, type: 'bad_request_error', param: 'stream' });
    }
    const decoded = decodeResponseId(id);
    const notFound = () => new GatewayError(`Response with id '${id.slice(0, 200)}' not found: the gateway did not give out this id`, {
      status: 404, type: 'not_found_error', param: 'response_id',
    });
    if (!decoded) throw notFound();
    // Someone else's response (another team, user or key) is not found, as an id never given out.
    if (!ownsResponse(caller, decoded, state.responseIdKey)) throw notFound();
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    // A config entry's deployment, or a wildcard group's made concrete for the name the response was created with.
    const stored = deploymentByStoredId(catalog, decoded.deploymentId);
    if (!stored) throw notFound();
    const { deployment } = stored;
    authorizeStoredModel(caller, stored.model, catalog);
    const adapter = PROVIDERS.get(deployment.provider);
    if (!adapter?.storedResponse) {
      throw new GatewayError(`Model group ${deployment.group} (${deployment.provider}) keeps no stored responses`, { status: 404, type: 'not_found_error', param: 'response_id' });
    }
    // A background response cannot be read once deleted: its watcher looks a last time first.
    if (method === 'DELETE' && !(await laterWorkDeleted(c.env, deployment.id, decoded.responseId))) {
      throw new GatewayError('The background response could not be billed before its deletion: try again shortly', { status: 503, type: 'service_unavailable_error', param: 'response_id' });
    }
    const res = await adapter.storedResponse({
      deployment, env: c.env as unknown as Record<string, unknown>, method, responseId: decoded.responseId, suffix,
      query, timeoutMs: requestTimeoutMs(state.config),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return new Response(text, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
    }
    // A background response seen over is billed now (its watcher would see it later).
    if ((body as { background?: unknown } | null)?.background === true) c.executionCtx.waitUntil(laterWorkSeen(c.env, 'response', deployment.id, decoded.responseId, body as object));
    // The response itself (or its deletion) names it by the provider's id: the client knows the gateway's (a copy: the watcher has the provider's).
    let shown = body;
    // A key is given no provider's store or file id, and none signed: nothing stored says which the key may have (file-search-ids.ts).
    if (caller.kind !== 'master') {
      shown = JSON.parse(text) as unknown;
      withoutProviderFileSearchIds(shown);
    }
    if (body && typeof body === 'object' && (body as { id?: unknown }).id === decoded.responseId) {
      const response = { ...shown as { id: string; previous_response_id?: unknown }, id };
      // The response it continued is the same owner's, named as the gateway names it.
      if (typeof response.previous_response_id === 'string' && decoded.owner) {
        response.previous_response_id = managedResponseId(deployment.provider, deployment.id, response.previous_response_id, { owner: decoded.owner, key: state.responseIdKey });
      }
      shown = response;
    }
    return Response.json(shown, { status: res.status, headers: { 'x-litellm-model-id': deployment.id, 'x-litellm-model-group': deployment.group } });
  };
}
