import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { bridgeRefusal } from '../providers/responses-bridge/index.ts';
import { speaksResponses } from '../providers/registry.ts';
import type { Caller } from '../auth/authenticate.ts';
import { decodeResponseId, ownsResponse } from '../providers/response-ids.ts';
import { type FileSearchStores, storeAccountRefusal } from './file-search-stores.ts';

/**
 * A Responses API follow-up (`previous_response_id` the gateway gave out) goes to the deployment that
 * stored the response it continues, as in LiteLLM: the 400 for every other deployment of the group (the
 * router skips them, and a group without it answers the first such 400). Undefined for any other request.
 */
/**
 * What keeps a deployment of the group from serving this Responses API request: a follow-up stored by
 * another deployment (followUpRefusal), or, for a deployment reached through chat, what only OpenAI's
 * servers can do (checked once a request). The router skips such deployments and answers the first
 * refusal only when none is left, so a group mixing providers serves each request where it can. A call
 * searching the gateway's vector stores is pinned to deployments of the stores' provider account.
 */
export function responsesRefusal(body: Record<string, unknown>, mocked: boolean, stores?: FileSearchStores): (d: DeploymentRef) => GatewayError | undefined {
  let bridged: { error: GatewayError | undefined } | undefined;
  return (d) => {
    const followUp = (stores ? storeAccountRefusal(stores, d) : undefined) ?? followUpRefusal(d, body);
    if (followUp || speaksResponses(d, mocked)) return followUp;
    bridged ??= { error: bridgeRefusal(body) };
    return bridged.error;
  };
}

/**
 * A follow-up of a response that is not the caller's (another team's, user's or key's, or an id the gateway
 * did not sign: a forged one, or the provider's own id read out of one): a 404, as for an id never given
 * out. The master key may continue any.
 */
export function requireOwnPrevious(caller: Caller, body: Record<string, unknown>, key: string): void {
  if (typeof body.previous_response_id !== 'string') return;
  if (!ownsResponse(caller, decodeResponseId(body.previous_response_id), key)) {
    throw new GatewayError(`Previous response with id '${(body.previous_response_id as string).slice(0, 200)}' not found.`, { status: 404, type: 'not_found_error', param: 'previous_response_id' });
  }
}

export function followUpRefusal(d: DeploymentRef, body: Record<string, unknown>): GatewayError | undefined {
  const previous = typeof body.previous_response_id === 'string' ? decodeResponseId(body.previous_response_id) : undefined;
  if (!previous || previous.deploymentId === d.id) return undefined;
  return new GatewayError(`previous_response_id ${body.previous_response_id as string} was stored by deployment ${previous.deploymentId}, which model group ${d.group} does not have`, {
    status: 400, type: 'bad_request_error', param: 'previous_response_id',
  });
}
