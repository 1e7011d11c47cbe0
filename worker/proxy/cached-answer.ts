import { replayAsStream } from '../cache/replay.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { eligibleDeployments } from '../router/eligible-deployments.ts';
import type { CachedAnswer } from '../cache/store.ts';
import type { Admission } from '../limits/admission-answer.ts';
import { callHeaders, keyHeaders, timingHeaders } from './call-helpers.ts';
import type { CallContext } from './call-context.ts';

/**
 * A cache hit's answer: the stored JSON, or replayed as a stream when the
 * request streams, with LiteLLM's headers (`x-litellm-cache-key`, a cost of
 * 0) and Tollgate's own time to them (x-litellm-overhead-duration-ms).
 */
export function cachedAnswer(ctx: CallContext, hit: CachedAnswer, cacheKey: string, admission: Admission | undefined): { response: Response; overheadMs: number } {
  const headers: Record<string, string> = { ...admission?.headers, ...callHeaders(ctx, ''), 'x-litellm-cache-key': cacheKey, 'x-litellm-response-cost': '0' };
  if (ctx.caller.kind === 'key') keyHeaders(headers, ctx.caller.policy, ctx.caller.policy.spend);
  const overheadMs = timingHeaders(headers, ctx.startedAt, 0);
  const includeUsage = (ctx.body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true;
  const response = ctx.stream
    ? new Response(replayAsStream(hit, includeUsage), { headers: { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
    : new Response(hit.json, { headers: { ...headers, 'content-type': 'application/json' } });
  return { response, overheadMs };
}

/** Each config's `caching_groups` as model group → the name its answers are kept under. */
const sharedGroups = new WeakMap<readonly (readonly string[])[], ReadonlyMap<string, string>>();

/**
 * The name a model group's answers are cached under: its own, or, for a group in one of
 * `router_settings.caching_groups` (LiteLLM's: groups of model groups that may answer each other's
 * requests from the cache, such as the same model at two providers), that caching group's.
 */
export function cacheName(group: string, cachingGroups: readonly (readonly string[])[] | undefined): string {
  if (!cachingGroups?.length) return group;
  let names = sharedGroups.get(cachingGroups);
  if (!names) {
    const built = new Map<string, string>();
    for (const members of cachingGroups) {
      const name = `caching_group:${JSON.stringify([...new Set(members)].sort())}`;
      for (const member of members) if (!built.has(member)) built.set(member, name);
    }
    sharedGroups.set(cachingGroups, (names = built));
  }
  return names.get(group) ?? group;
}

/**
 * Where a call held to a region or routed by tags may be answered from: the
 * cache group its answers are kept under (a region's and a tag set's apart,
 * so none is served an answer made by a deployment it may not use; a caching
 * group's shared), and the first deployment it may use, named by a cache hit's headers.
 * None when no deployment of the group may serve the call: it is refused by
 * routing, never answered from another group's answers (caching_groups).
 */
export function routingScope(
  resolved: { group: string; deployments: DeploymentRef[] }, region: string | undefined, tags: readonly string[] | undefined,
  settings: Pick<TollgateConfig['router_settings'], 'enable_tag_filtering' | 'tag_filtering_match_any' | 'caching_groups'>, modelTags?: ReadonlyMap<string, readonly string[]>,
): { cacheGroup?: string; first?: DeploymentRef } {
  const name = cacheName(resolved.group, settings.caching_groups);
  if (!region && !tags) return { cacheGroup: name };
  const eligible = eligibleDeployments(resolved.deployments, { region, tags, modelTags }, settings, resolved.group, resolved.group);
  if (!Array.isArray(eligible) || !eligible[0]) return {};
  const cacheGroup = `${name}${region ? `\nregion=${region}` : ''}${tags ? `\ntags=${[...tags].sort().join(',')}` : ''}`;
  return { cacheGroup, first: eligible[0] };
}
