import type { Context } from 'hono';
import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { identify } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, pickDeployment, standInDeployment } from '../models/deployments.ts';
import { forwardedHeaders, safeBase } from '../passthrough/forward.ts';
import { type PassThroughCall, passThroughCall, passThroughTimeoutMs } from '../passthrough/pass-through-call.ts';
import { readPassThroughBody } from '../passthrough/pass-through-body.ts';
import { googleQuery, withQueryKey } from '../passthrough/upstream-credentials.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { servingDeployments } from '../router/serving-deployments.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import { gatewayState } from '../state.ts';
import { decodeInteractionId, interactionOwner, type ManagedInteractionId, managedInteractionId, ownsInteraction } from './ids.ts';
import { shownAnswer } from './answer.ts';
import { interactionsTarget, servesInteractions, withoutGatewayFields } from './upstream.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// What the gateway reads of a create request (Google's CreateInteraction body); the rest goes on as sent.
const createSchema = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  agent: z.string().max(256).optional(),
  input: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  stream: z.boolean().optional(),
  background: z.boolean().optional(),
  store: z.boolean().optional(),
  previous_interaction_id: z.string().min(1).max(4096).optional(),
});

/** The body's refusal in the error envelope, naming the field at fault. */
function invalidBody(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  const param = issue?.path.length ? issue.path.join('.') : null;
  const message = issue?.code === 'invalid_type' && issue.input === undefined ? `${param ?? 'body'} is required` : `${param ?? 'body'}: ${issue?.message ?? 'invalid'}`;
  return badRequest(`Invalid interaction request: ${message}`, param);
}

/**
 * `POST /v1beta/interactions` (also `/interactions`), LiteLLM's route to Google's Interactions API: the
 * body's `model` names a model group (or a key's or team's alias of one) of Gemini deployments (`gemini/`,
 * or Google's models on `vertex_ai/`), one of which serves the call in Google's own format with its own
 * credential, the body's model replaced by the deployment's. Counted, held and billed as any model call (the
 * answer's `usage`, a stream's at `interaction.completed`; a stream cut short by the text it carried) and
 * logged with `call_type: acreate_interaction`. Interaction ids come back signed for their owner (ids.ts); a
 * `previous_interaction_id` must be one of the caller's, and the deployment that stored it serves the
 * follow-up. Agents and background runs are refused: neither can be billed when the call ends.
 */
export async function createInteraction(c: Ctx): Promise<Response> {
  const seen: Seen = {};
  try {
    const state = await gatewayState(c.env);
    const url = new URL(c.req.url);
    const headers = withQueryKey(headerSnapshot(c.req.raw.headers), url.searchParams.get('key'));
    const who = await identify(headers, state, c.req.path);
    const client = await readPassThroughBody(c.req.raw, state);
    if (!client.json) throw badRequest('Invalid interaction request: the body must be a JSON object');
    const parsed = createSchema.safeParse(client.json);
    if (!parsed.success) throw invalidBody(parsed.error);
    const request = parsed.data;
    if (request.agent !== undefined) {
      throw badRequest('Agent interactions (agent, such as Deep Research) are not served by the gateway: name a model group in model', 'agent');
    }
    if (request.model === undefined) throw badRequest('Invalid interaction request: model is required', 'model');
    if (request.background === true) {
      throw badRequest('Background interactions are not served by the gateway (a run that ends after the call cannot be held to budgets): leave background unset, and stream a long answer', 'background');
    }
    // A follow-up names an interaction the gateway gave out; only the master key may name Google's own id.
    const previousId = request.previous_interaction_id;
    const previous = previousId === undefined ? undefined : decodeInteractionId(previousId);
    if (previousId !== undefined && !previous && !who.master) {
      throw new GatewayError('previous_interaction_id not found: the gateway did not give out this id', { status: 404, type: 'not_found_error', param: 'previous_interaction_id' });
    }
    const group = request.model;
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
    const google = resolveGroup(state.config, catalog, group).deployments.filter(servesInteractions);
    const outbound = forwardedHeaders(c.req.raw.headers, { all: true, keyHeaders: [state.keyHeader] });
    outbound.set('content-type', 'application/json');
    let deployment: DeploymentRef | undefined;
    let owner = 'master';
    const call: PassThroughCall = {
      headers, keyHeaders: [state.keyHeader], who, group, json: client.json, bodyChars: client.bytes?.byteLength ?? 0,
      billed: true, generative: true, modelRoute: true, endpoint: 'interaction',
      deployment: google[0] ?? standInDeployment('gemini', group), priceByAnswer: false, requested: group,
      authorize: (caller, admitted) => {
        const eligible = servingDeployments(state.config, catalog, group, admitted ?? { caller, admission: undefined, tags: [], modelTags: undefined }, {
          path: url.pathname, serves: servesInteractions, kind: "Google's Interactions API (gemini/ or vertex_ai/ Gemini deployments)",
        });
        deployment = previous ? followedDeployment(caller, previous, eligible, state.responseIdKey) : pickDeployment(eligible)!;
        owner = interactionOwner(caller);
        call.deployment = deployment;
        call.group = deployment.group;
        call.apiBase = deployment.params.api_base ? safeBase(deployment.params.api_base) : '';
      },
      send: async (signal) => {
        // Credentials a secret manager holds are read (or taken from this isolate's cache) for this call only.
        const d = await deploymentWithSecrets(deployment!, c.env);
        const body = { ...withoutGatewayFields(client.json ?? {}), model: d.model, ...(previous ? { previous_interaction_id: previous.interactionId } : {}) };
        const { url: target, secret } = await interactionsTarget(d, c.env as unknown as Record<string, unknown>, outbound, '', googleQuery(url));
        const upstream = await fetch(target, { method: 'POST', headers: outbound, body: JSON.stringify(body), signal });
        const shown = (id: string) => managedInteractionId(d.id, id, owner, state.responseIdKey);
        return shownAnswer(upstream, shown, d, secret);
      },
      apiBase: '',
      timeoutMs: passThroughTimeoutMs(state.config),
    };
    return await passThroughCall(c, state, call, seen);
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'interaction', seen, err);
    throw err;
  }
}

/** The deployment that stored the interaction a follow-up continues: one of the caller's, served by the group it calls. */
function followedDeployment(caller: Caller, previous: ManagedInteractionId, eligible: readonly DeploymentRef[], key: string): DeploymentRef {
  if (!ownsInteraction(caller, previous, key)) {
    throw new GatewayError('previous_interaction_id not found: the gateway did not give out this id', { status: 404, type: 'not_found_error', param: 'previous_interaction_id' });
  }
  const home = eligible.find((d) => d.id === previous.deploymentId);
  if (!home) throw badRequest('previous_interaction_id was stored by a deployment that does not serve this model group: continue it with the model group that created it', 'previous_interaction_id');
  return home;
}
