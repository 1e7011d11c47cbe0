import type { Caller } from '../auth/authenticate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import { safeBase } from '../passthrough/forward.ts';
import type { PassThroughCall } from '../passthrough/pass-through-call.ts';
import type { RequestHeaders } from '../providers/types.ts';
import type { AdmittedCall } from '../proxy/call-admission.ts';
import { forwardedHeaders as forwardedToProvider } from '../proxy/call-helpers.ts';
import { forwardsByGroup, groupForwardsHeaders } from '../router/header-groups.ts';
import { servingDeployments } from '../router/serving-deployments.ts';

// What Google's own-format routes (google-models.ts, interactions/create.ts) share: the deployments that may
// serve a call once its key is known, the chosen one recorded on the call, and the headers Google is sent.

/** The group's deployments the route serves that may serve this caller's call (servingDeployments); throws the refusal. */
export function googleEligible(
  config: TollgateConfig, catalog: ModelCatalog, group: string, caller: Caller, admitted: AdmittedCall | undefined,
  route: { path: string; serves(d: DeploymentRef): boolean; kind: string },
): DeploymentRef[] {
  return servingDeployments(config, catalog, group, admitted ?? { caller, admission: undefined, tags: [], modelTags: undefined }, route);
}

/** The call now served by `deployment`: its deployment, group and (credential-free) API base. */
export function servedBy(call: PassThroughCall, deployment: DeploymentRef): void {
  call.deployment = deployment;
  call.group = deployment.group;
  call.apiBase = deployment.params.api_base ? safeBase(deployment.params.api_base) : '';
}

/**
 * The headers Google is sent, as the other model routes send them: the client's own (already without its
 * credentials) only as general_settings or the model_group_settings of one of `groups` forward them, the
 * body's content type, and what the client accepts.
 */
export function googleOutbound(config: TollgateConfig, safeHeaders: RequestHeaders, groups: readonly string[], contentType: string, accept: string | null): Headers {
  const byGroup = forwardsByGroup(config) && groupForwardsHeaders(config, groups);
  const outbound = new Headers(forwardedToProvider(config.general_settings, safeHeaders, byGroup));
  outbound.set('content-type', contentType);
  if (accept) outbound.set('accept', accept);
  return outbound;
}
