/**
 * The fallback lists LiteLLM's `/fallback` routes read and edit: `[{model_group: [fallback, ...]}, ...]` under
 * router_settings, one list per fallback type. Pure: no database, no Workers types (its unit test runs under Node).
 */
import type { FallbackKey } from '../../../worker/config/router-checks.ts';
import type { TollgateConfig } from '../../../worker/config/schema.ts';

export const FALLBACK_TYPES = ['general', 'context_window', 'content_policy'] as const;
export type FallbackType = typeof FALLBACK_TYPES[number];

/** The router setting holding each type's list (one of router-checks.ts's FALLBACK_KEYS). */
export const FALLBACK_KEY_OF = {
  general: 'fallbacks',
  context_window: 'context_window_fallbacks',
  content_policy: 'content_policy_fallbacks',
} as const satisfies Record<FallbackType, FallbackKey>;

export type FallbackList = Record<string, string[]>[];

/**
 * The list the gateway uses for `type` (worker/router/fallbacks.ts): router_settings', or for context window and
 * content policy failures litellm_settings' where router_settings sets none, as LiteLLM also reads them there.
 */
export function effectiveFallbacks(
  router: TollgateConfig['router_settings'],
  litellm: TollgateConfig['litellm_settings'],
  type: FallbackType,
): FallbackList {
  if (type === 'general') return router.fallbacks ?? [];
  const key = FALLBACK_KEY_OF[type];
  return router[key] ?? litellm[key] ?? [];
}

/** A group's fallbacks in `list` (its first entry naming it, as the router looks it up); [] when none. */
export function fallbacksOf(list: FallbackList, model: string): string[] {
  return list.find((entry) => Object.hasOwn(entry, model))?.[model] ?? [];
}

/**
 * `list` with `model`'s fallbacks set to `targets`: in the first entry naming it, or a new entry appended. An entry
 * naming other groups too keeps theirs (LiteLLM replaces the whole entry, dropping them). `list` is not changed.
 */
export function withFallbacks(list: FallbackList, model: string, targets: string[]): { list: FallbackList; updated: boolean } {
  const at = list.findIndex((entry) => Object.hasOwn(entry, model));
  if (at < 0) return { list: [...list, { [model]: targets }], updated: false };
  return { list: list.map((entry, i) => (i === at ? { ...entry, [model]: targets } : entry)), updated: true };
}

/**
 * `list` without `model`'s fallbacks, in every entry naming it; an entry left naming no group goes (LiteLLM drops
 * every entry naming it whole, other groups' fallbacks with it). `found` false when no entry named it.
 */
export function withoutFallbacks(list: FallbackList, model: string): { list: FallbackList; found: boolean } {
  if (!list.some((entry) => Object.hasOwn(entry, model))) return { list, found: false };
  const kept = list
    .map((entry) => Object.fromEntries(Object.entries(entry).filter(([group]) => group !== model)))
    .filter((entry) => Object.keys(entry).length);
  return { list: kept, found: true };
}
