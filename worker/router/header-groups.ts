import type { TollgateConfig } from '../config/schema.ts';

/**
 * Client header forwarding by model group, LiteLLM's
 * `litellm_settings.model_group_settings.forward_client_headers_to_llm_api: [groups]`: the client's `x-`
 * headers (and `anthropic-beta`) go to a provider only for the groups named, where
 * `general_settings.forward_client_headers_to_llm_api: true` sends them for every group. A name is a model
 * group, or a pattern with `*` (`openai/*`, `byok/*`) matched against the group and the name the client asked
 * for. Only these name groups, as in LiteLLM: `forward_client_headers_by_model_group` listed in
 * `router_settings` (globally or per group) names none (warned about, cross-checks.ts). Which headers pass, and
 * that credentials never do, is call-helpers.ts forwardedHeaders.
 */

interface GroupMatcher {
  exact: ReadonlySet<string>;
  patterns: readonly RegExp[];
}

const matchers = new WeakMap<TollgateConfig, GroupMatcher | null>();

/** The groups named, compiled once per config (the config object lives as long as the isolate's state). */
function matcherOf(config: TollgateConfig): GroupMatcher | null {
  let m = matchers.get(config);
  if (m !== undefined) return m;
  const names = config.litellm_settings.model_group_settings?.forward_client_headers_to_llm_api ?? [];
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const name of names) {
    if (!name.includes('*')) exact.add(name);
    else patterns.push(new RegExp(`^${name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's'));
  }
  m = exact.size || patterns.length ? { exact, patterns } : null;
  matchers.set(config, m);
  return m;
}

/** Whether any model group forwards client headers by name: when not, a call reads nothing more (a property read). */
export function forwardsByGroup(config: TollgateConfig): boolean {
  if (!config.litellm_settings.model_group_settings) return false;
  return matcherOf(config) !== null;
}

/**
 * Whether a call to any of `names` (the group a deployment serves, the name the client asked for) passes the
 * client's headers on. Decided per deployment called, so a fallback to a group not named sends none.
 */
export function groupForwardsHeaders(config: TollgateConfig, names: readonly string[]): boolean {
  const m = matcherOf(config);
  if (!m) return false;
  return names.some((name) => m.exact.has(name) || m.patterns.some((p) => p.test(name)));
}
