import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { authorizeStoredModel } from '../proxy/call-access.ts';
import { withQueryKey } from '../passthrough/upstream-credentials.ts';
import { requestTimeoutMs } from '../proxy/call-helpers.ts';
import { deploymentByStoredId } from '../router/resolve-group.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import { gatewayState } from '../state.ts';
import { shownAnswer } from './answer.ts';
import { decodeInteractionId, managedInteractionId, ownsInteraction } from './ids.ts';
import { interactionsTarget } from './upstream.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// What a read may ask of Google: a stored interaction's events again (`stream`), from after one (`last_event_id`).
const READ_QUERY = new Set(['stream', 'last_event_id']);

/**
 * A stored interaction, by the id the gateway gave out (ids.ts), as LiteLLM serves them: `GET
 * /v1beta/interactions/{id}` (with `?stream=true`, its events again), `DELETE` and `POST .../cancel`, each sent
 * to the deployment that stored it with that deployment's credential, for the master key or the interaction's
 * owner (another's id is not found, as one never given out) while it may call the deployment's model group.
 * The answer is Google's, its ids the gateway's again. Not counted or billed: the call that made the
 * interaction was.
 */
export function storedInteraction(method: 'GET' | 'DELETE' | 'POST', suffix: '' | '/cancel') {
  return async function storedInteractionRoute(c: Ctx): Promise<Response> {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(withKeyParam(c), state);
    const param = c.req.param('id') ?? '';
    const id = suffix === '/cancel' ? param.replace(/:cancel$/, '') : param;
    const notFound = () => new GatewayError(`Interaction with id '${id.slice(0, 200)}' not found: the gateway did not give out this id`, {
      status: 404, type: 'not_found_error', param: 'interaction_id',
    });
    const decoded = decodeInteractionId(id);
    if (!decoded || !ownsInteraction(caller, decoded, state.responseIdKey)) throw notFound();
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const stored = deploymentByStoredId(catalog, decoded.deploymentId);
    if (!stored) throw notFound();
    const { deployment } = stored;
    authorizeStoredModel(caller, stored.model, catalog);
    const query = method === 'GET' ? [...new URL(c.req.url).searchParams].filter(([name]) => READ_QUERY.has(name)) : [];
    const d = await deploymentWithSecrets(deployment, c.env);
    const outbound = new Headers({ accept: c.req.header('accept') ?? 'application/json' });
    if (method === 'POST') outbound.set('content-type', 'application/json');
    const { url: target, secret } = await interactionsTarget(d, c.env as unknown as Record<string, unknown>, outbound, `/${decoded.interactionId}${suffix}`, query);
    const timeoutMs = requestTimeoutMs(state.config);
    let upstream: Response;
    try {
      upstream = await fetch(target, { method, headers: outbound, ...(method === 'POST' ? { body: '{}' } : {}), ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {}) });
    } catch {
      throw new GatewayError('The interaction could not be reached upstream', { status: 502, type: 'internal_server_error' });
    }
    const answer = await shownAnswer(upstream, (googleId) => managedInteractionId(d.id, googleId, decoded.owner, state.responseIdKey), d, secret);
    answer.headers.set('x-litellm-model-id', deployment.id);
    answer.headers.set('x-litellm-model-group', deployment.group);
    return answer;
  };
}

/**
 * The request as authenticated: with a `?key=` (as Google's API takes its key, and create accepts it) as the
 * key header when no header carries one, so an id made with `?key=` is read back the same way. Only a request
 * with `key` in its query pays for the copy.
 */
function withKeyParam(c: Ctx): { req: { raw: Request; path: string }; env: GatewayEnv } {
  const key = new URL(c.req.url).searchParams.get('key');
  if (!key) return c;
  if (withQueryKey(c.req.raw.headers, key) === c.req.raw.headers) return c;
  const headers = new Headers(c.req.raw.headers);
  headers.set('x-goog-api-key', key);
  return { req: { raw: new Request(c.req.url, { headers }), path: c.req.path }, env: c.env };
}
