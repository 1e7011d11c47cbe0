import type { TollgateConfig } from '../config/schema.ts';
import { badRequest, GatewayError } from '../errors.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import type { AdmittedCall } from '../proxy/call-admission.ts';
import { aliasOf, authorizeCall } from '../proxy/call-access.ts';
import { eligibleDeployments } from './eligible-deployments.ts';
import { resolveGroup } from './resolve-group.ts';

/**
 * The deployments of a requested model group that may serve an admitted call on a route the router does
 * not run (a Realtime session, Google's format): the key's or team's alias of the name resolved, the call
 * authorized as any (routes, model lists), those of the kind the route serves, then those in the end
 * user's region and, with tag routing on, of the call's tags. Throws the refusal.
 */
export function servingDeployments(
  config: TollgateConfig, catalog: ModelCatalog, requested: string, admitted: Pick<AdmittedCall, 'caller' | 'admission' | 'tags' | 'modelTags'>,
  route: { path: string; serves(d: DeploymentRef): boolean; kind: string },
): DeploymentRef[] {
  const { caller, admission } = admitted;
  const aliased = aliasOf(caller, requested);
  const resolved = resolveGroup(config, catalog, aliased ?? requested);
  authorizeCall({ caller, requested, aliased, picked: resolved.deployments[0], catalog, path: route.path, body: {} });
  const served = resolved.deployments.filter(route.serves);
  if (!served.length) throw badRequest(`Model group ${aliased ?? requested} has no deployment that serves ${route.kind}`, 'model');
  const tags = config.router_settings.enable_tag_filtering === true ? admitted.tags : undefined;
  const eligible = eligibleDeployments(served, { region: admission?.modelRegion, tags, modelTags: admitted.modelTags }, config.router_settings, requested, resolved.group);
  if (eligible instanceof GatewayError) throw eligible;
  return eligible;
}
