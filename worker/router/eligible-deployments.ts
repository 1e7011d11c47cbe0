import type { TollgateConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';

/**
 * The deployments of a group a call may use: those in its end user's
 * `allowed_model_region` (`region_name`), then of those the ones its tags
 * pick; else why none may serve it (the router then falls back as after an error).
 */
export function eligibleDeployments(
  deployments: DeploymentRef[], call: { region?: string | undefined; tags?: readonly string[] | undefined; modelTags?: ReadonlyMap<string, readonly string[]> | undefined },
  settings: Pick<TollgateConfig['router_settings'], 'enable_tag_filtering' | 'tag_filtering_match_any'>, requested: string, group: string,
): DeploymentRef[] | GatewayError {
  const regional = call.region ? deployments.filter((d) => d.params.region_name === call.region) : deployments;
  if (!regional.length) {
    // As LiteLLM's pre-call checks do: a deployment outside the end user's region is never called, whatever else is left.
    return new GatewayError(`No deployment of model group ${group} is in the end user's allowed region (allowed_model_region=${call.region}): set region_name on its deployments`, {
      status: 400, type: 'bad_request_error', param: 'model',
    });
  }
  if (!settings.enable_tag_filtering) return regional;
  const tagged = deploymentsForTags(regional, call.tags ?? [], settings.tag_filtering_match_any !== false, call.modelTags);
  // LiteLLM's words (RouterErrors.no_deployments_with_tag_routing).
  return tagged ?? new GatewayError(`Not allowed to access model due to tags configuration. Passed model=${requested} and tags=${JSON.stringify(call.tags ?? [])}`, {
    status: 400, type: 'bad_request_error', param: 'model',
  });
}

/**
 * LiteLLM's tag-based routing (`router_settings.enable_tag_filtering`): a
 * request's tags (its own, its key's and its team's) pick the deployments
 * whose `litellm_params.tags` match: any one of them, or every one with
 * `tag_filtering_match_any: false`. Deployments tagged `default` serve a
 * request no deployment matches, and every untagged request when the group
 * has any. Undefined when none can serve it.
 */
export function deploymentsForTags(deployments: DeploymentRef[], tags: readonly string[], matchAny: boolean, modelTags?: ReadonlyMap<string, readonly string[]>): DeploymentRef[] | undefined {
  const tagsOf = (d: DeploymentRef) => deploymentTags(d, modelTags);
  const defaults = deployments.filter((d) => tagsOf(d).includes('default'));
  if (!tags.length) return defaults.length ? defaults : deployments;
  const matching = deployments.filter((d) => {
    const own = tagsOf(d);
    return matchAny ? tags.some((t) => own.includes(t)) : tags.every((t) => own.includes(t));
  });
  if (matching.length) return matching;
  return defaults.length ? defaults : undefined;
}

/**
 * A deployment's tags: its `litellm_params.tags`, and those of the tags created through `/tag/new`
 * whose `models` name it, by its id (a wildcard's by its entry's) or its model group (LiteLLM adds them to it).
 */
export function deploymentTags(d: DeploymentRef, modelTags: ReadonlyMap<string, readonly string[]> | undefined): readonly string[] {
  if (!modelTags) return d.params.tags ?? [];
  const given = [d.id, d.baseId, d.group].flatMap((name) => (name ? modelTags.get(name) ?? [] : []));
  return given.length ? [...(d.params.tags ?? []), ...given] : d.params.tags ?? [];
}

/** The tags that route a call: the request's (body `tags`, `metadata.tags`, `x-litellm-tags`), then its key's and its team's. */
export function routingTags(requestTags: readonly string[], key: { tags: readonly string[]; metadata: Record<string, unknown>; team: { metadata: Record<string, unknown> } | null } | undefined): string[] {
  const tags = new Set(requestTags);
  if (key) {
    for (const t of key.tags) tags.add(t);
    for (const source of [key.metadata.tags, key.team?.metadata.tags]) {
      if (Array.isArray(source)) for (const t of source) if (typeof t === 'string' && t) tags.add(t);
    }
  }
  return [...tags];
}
