import type { Context } from 'hono';
import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { identify } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, pickDeployment, standInDeployment } from '../models/deployments.ts';
import { type PassThroughCall, passThroughCall, passThroughTimeoutMs } from '../passthrough/pass-through-call.ts';
import { readPassThroughBody } from '../passthrough/pass-through-body.ts';
import { googleQuery, withQueryKey } from '../passthrough/upstream-credentials.ts';
import { headerSnapshot, withoutCredentials } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { googleEligible, googleOutbound, servedBy } from '../routes/google-call.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import { gatewayState } from '../state.ts';
import { decodeInteractionId, interactionOwner, type ManagedInteractionId, managedInteractionId, ownsInteraction } from './ids.ts';
import { shownAnswer } from './answer.ts';
import { interactionsTarget, servesInteractions, unservedRun, withoutGatewayFields } from './upstream.ts';

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
 * follow-up. Agents and background runs are refused: neither can be billed when the call ends. Google gets the
 * client's headers only as the other model routes forward them (`forward_client_headers_to_llm_api`, globally
 * or by model group), and never its credentials.
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
    if (request.agent !== undefined) throw unservedRun(request)!;
    if (request.model === undefined) throw badRequest('Invalid interaction request: model is required', 'model');
    const unserved = unservedRun(request);
    if (unserved) throw unserved;
    // A follow-up names an interaction the gateway gave out; only the master key may name Google's own id.
    const previousId = request.previous_interaction_id;
    const previous = previousId === undefined ? undefined : decodeInteractionId(previousId);
    if (previousId !== undefined && !previous && !who.master) {
      throw new GatewayError('previous_interaction_id not found: the gateway did not give out this id', { status: 404, type: 'not_found_error', param: 'previous_interaction_id' });
    }
    const group = request.model;
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
    const google = resolveGroup(state.config, catalog, group).deployments.filter(servesInteractions);
    // What the other model routes send Google: the body's type and what the client accepts, and the client's own
    // headers only as general_settings / model_group_settings forward them (never its credentials).
    const safeHeaders = withoutCredentials(headers, state.keyHeader);
    const accept = headers.get('accept');
    let deployment: DeploymentRef | undefined;
    let owner = 'master';
    const call: PassThroughCall = {
      headers, keyHeaders: [state.keyHeader], who, group, json: client.json, bodyChars: client.bytes?.byteLength ?? 0,
      billed: true, generative: true, modelRoute: true, endpoint: 'interaction',
      deployment: google[0] ?? standInDeployment('gemini', group), priceByAnswer: false, requested: group,
      authorize: (caller, admitted) => {
        const eligible = googleEligible(state.config, catalog, group, caller, admitted, {
          path: url.pathname, serves: servesInteractions, kind: "Google's Interactions API (gemini/ or vertex_ai/ Gemini deployments)",
        });
        deployment = previous ? followedDeployment(caller, previous, eligible, state.responseIdKey) : pickDeployment(eligible)!;
        owner = interactionOwner(caller);
        servedBy(call, deployment);
      },
      send: async (signal) => {
        // Credentials a secret manager holds are read (or taken from this isolate's cache) for this call only.
        const d = await deploymentWithSecrets(deployment!, c.env);
        const outbound = googleOutbound(state.config, safeHeaders, [d.group, group], 'application/json', accept);
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
