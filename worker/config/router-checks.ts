/**
 * The router settings Tollgate accepts but ignores (or that do nothing as written): pre-call checks set per group that
 * work proxy-wide only, a header-forwarding check naming no group, retry and allowed-fails policies naming no LiteLLM
 * error class, provider budgets for providers Tollgate does not serve, fallback entries naming no group, no fallback
 * or a blank name (config.yaml's schema takes them; the router cannot use them). config.yaml's cross-checks warn of
 * them (cross-checks.ts); the same checks name them in a row stored in the database (stored-router-settings.ts) and refuse
 * them on the admin API's writes. Each finding names a path under router_settings and why, never a value's secret.
 */
import { LITELLM_ERROR_CLASSES } from '../router/retry-policy.ts';
import { IMPLEMENTED_PROVIDERS, type ProviderId } from './providers.ts';
import type { TollgateConfig } from './schema.ts';

export interface RouterCheck {
  /** Where under router_settings, as config.yaml's warnings name it (`retry_policy.FooRetries`). */
  path: string;
  why: string;
}

/** Pre-call checks that load with a warning: not built, or what Tollgate does anyway. */
const PRE_CALL_CHECK_NOTES: Partial<Record<string, string>> = {};

/** The checks model_group_affinity_config sets per group, as LiteLLM's DeploymentAffinityCheck reads them. */
const PER_GROUP_CHECKS = new Set(['deployment_affinity', 'session_affinity', 'responses_api_deployment_check', 'encrypted_content_affinity']);
/** LiteLLM's header groups come from model_group_settings only: per group the check names nothing (router/header-groups.ts). */
const HEADER_CHECK_PER_GROUP = 'has no effect here (it names no model group, and leaves the group\'s other checks as they are): list the groups in litellm_settings.model_group_settings.forward_client_headers_to_llm_api';

/** The fallback lists config.yaml takes, in router_settings (litellm_settings holds the middle two as well). */
export const FALLBACK_KEYS = ['fallbacks', 'context_window_fallbacks', 'content_policy_fallbacks'] as const;
export type FallbackKey = typeof FALLBACK_KEYS[number];
type FallbackLists = Partial<Pick<TollgateConfig['router_settings'], FallbackKey | 'default_fallbacks'>>;

/**
 * The fallback entries in `r` the router cannot use: one naming no model group (`{}`), a blank group, a group with
 * no fallbacks, a blank fallback. Paths as under router_settings (`fallbacks[0].gpt`).
 */
export function unusableFallbacks(r: FallbackLists): RouterCheck[] {
  const out: RouterCheck[] = [];
  for (const list of FALLBACK_KEYS) {
    for (const [i, entry] of (r[list] ?? []).entries()) {
      const groups = Object.entries(entry);
      if (!groups.length) out.push({ path: `${list}[${i}]`, why: 'names no model group (ignored; expected {model_group: [fallbacks]})' });
      for (const [group, targets] of groups) {
        if (!group.trim()) out.push({ path: `${list}[${i}]`, why: 'a model group name is blank (ignored: no call names it)' });
        else if (!targets.length) out.push({ path: `${list}[${i}].${group}`, why: 'names no fallback model group (the group gets none from this list)' });
        else if (targets.some((t) => !t.trim())) out.push({ path: `${list}[${i}].${group}`, why: 'a fallback model group name is blank (no model group answers to it)' });
      }
    }
  }
  for (const [i, target] of (r.default_fallbacks ?? []).entries()) {
    if (!target.trim()) out.push({ path: `default_fallbacks[${i}]`, why: 'a fallback model group name is blank (no model group answers to it)' });
  }
  return out;
}

/**
 * The router_settings fallbacks in `r` naming a model group not in `groups` (the groups served), as config.yaml's
 * warnings word them: a warning, not a refusal, since the group may be added later with /model/new. A wildcard group
 * in `groups` (`openai/*`) may serve any name: then none is named.
 */
export function unknownFallbackGroups(r: FallbackLists, groups: ReadonlySet<string>): string[] {
  if ([...groups].some((g) => g.includes('*'))) return [];
  const out: string[] = [];
  for (const list of FALLBACK_KEYS) {
    for (const [i, entry] of (r[list] ?? []).entries()) {
      for (const [group, targets] of Object.entries(entry)) {
        for (const name of [group, ...targets]) {
          if (!groups.has(name)) out.push(`router_settings.${list}[${i}]: model group "${name}" is not in model_list (it must be added through /model/new)`);
        }
      }
    }
  }
  return out;
}

/**
 * What in `r` is ignored or has no effect. `litellm` is the config's litellm_settings, where the header-forwarding
 * check's groups are named.
 */
export function routerSettingsChecks(r: Partial<TollgateConfig['router_settings']>, litellm: Pick<TollgateConfig['litellm_settings'], 'model_group_settings'>): RouterCheck[] {
  const out: RouterCheck[] = [];
  for (const [where, checks] of [['optional_pre_call_checks', r.optional_pre_call_checks], ...Object.entries(r.model_group_affinity_config ?? {}).map(([g, c]) => [`model_group_affinity_config.${g}`, c] as const)] as const) {
    for (const check of checks ?? []) {
      const perGroup = where !== 'optional_pre_call_checks';
      const why = PRE_CALL_CHECK_NOTES[check] ?? (perGroup && check === 'forward_client_headers_by_model_group' ? HEADER_CHECK_PER_GROUP : undefined)
        ?? (perGroup && !PER_GROUP_CHECKS.has(check) ? 'applies proxy-wide only: set it in router_settings.optional_pre_call_checks (ignored here)' : undefined);
      if (why) out.push({ path: where, why: `"${check}" ${why}` });
    }
  }
  // LiteLLM's hook of that name forwards nothing itself: the groups are named in model_group_settings.
  if (r.optional_pre_call_checks?.includes('forward_client_headers_by_model_group') && !litellm.model_group_settings?.forward_client_headers_to_llm_api?.length) {
    out.push({ path: 'optional_pre_call_checks', why: '"forward_client_headers_by_model_group" names no model group by itself (no effect): list the groups in litellm_settings.model_group_settings.forward_client_headers_to_llm_api' });
  }
  for (const provider of Object.keys(r.provider_budget_config ?? {})) {
    if (!IMPLEMENTED_PROVIDERS.has(provider as ProviderId)) {
      out.push({ path: `provider_budget_config.${provider}`, why: `not a provider Tollgate serves (ignored: no deployment's calls count in it; expected one of ${[...IMPLEMENTED_PROVIDERS].join(', ')})` });
    }
  }
  // LiteLLM's error classes, as retry_policy (`…Retries`) and allowed_fails_policy (`…AllowedFails`) name them.
  for (const [field, suffix] of [['retry_policy', 'Retries'], ['allowed_fails_policy', 'AllowedFails']] as const) {
    for (const key of Object.keys(r[field] ?? {})) {
      if (!LITELLM_ERROR_CLASSES.some((c) => `${c}${suffix}` === key)) {
        out.push({ path: `${field}.${key}`, why: `not a LiteLLM error class (ignored; expected one of ${LITELLM_ERROR_CLASSES.map((c) => `${c}${suffix}`).join(', ')})` });
      }
    }
  }
  out.push(...unusableFallbacks(r));
  return out;
}
