import type { TollgateConfig } from '../config/schema.ts';

type FallbackList = Record<string, string[]>[] | undefined;

function lookup(list: FallbackList, group: string): string[] {
  for (const entry of list ?? []) {
    const targets = entry[group];
    if (targets) return targets;
  }
  return [];
}

export type FallbackReason = 'error' | 'context_window' | 'content_policy';

/**
 * Where a group falls back to: the client's `fallbacks` first (for the group
 * it asked for), then `context_window_fallbacks` / `content_policy_fallbacks`
 * for those failures, else `fallbacks`, else `default_fallbacks`; from
 * `router_settings`, or `litellm_settings` where LiteLLM also reads them.
 */
export function fallbacksFor(config: TollgateConfig, group: string, reason: FallbackReason, clientFallbacks: string[] | undefined): string[] {
  if (clientFallbacks?.length) return clientFallbacks;
  const r = config.router_settings;
  const l = config.litellm_settings;
  if (reason === 'context_window') {
    const specific = lookup(r.context_window_fallbacks ?? l.context_window_fallbacks, group);
    if (specific.length) return specific;
  }
  if (reason === 'content_policy') {
    const specific = lookup(r.content_policy_fallbacks ?? l.content_policy_fallbacks, group);
    if (specific.length) return specific;
  }
  const general = lookup(r.fallbacks, group);
  if (general.length) return general;
  return r.default_fallbacks ?? l.default_fallbacks ?? [];
}

/** LiteLLM's default cap on fallbacks per request. */
export function maxFallbacks(config: TollgateConfig): number {
  return config.router_settings.max_fallbacks ?? 5;
}
