import type { KeyPolicy } from './key-policy.ts';

/** The two key fields LiteLLM keeps in a key's metadata that change what its calls may do, as the key's policy carries them. */
export type KeyFieldPolicy = Pick<KeyPolicy, 'disableGlobalGuardrails' | 'allowedPassthroughRoutes'>;

const NONE: KeyFieldPolicy = Object.freeze({});

/** A list's string entries (LiteLLM skips the others), or undefined when it lists none. */
function routes(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const named = list.filter((r): r is string => typeof r === 'string');
  return named.length ? named : undefined;
}

/**
 * `disable_global_guardrails: true` and a non-empty `allowed_passthrough_routes` from a key's metadata (where
 * /key/generate keeps them), for its policy: present only when they do something, so the policy of a key without
 * them is as it was. Only the key's own: LiteLLM reads a team's too, but lets only proxy admins set them there,
 * while here a team admin writes its team's metadata (replaced whole by /team/update), so a team's flag would
 * let them exempt their team's keys and a team's list would be theirs to widen or drop.
 */
export function keyFieldPolicy(key: Record<string, unknown>): KeyFieldPolicy {
  const disable = key.disable_global_guardrails === true;
  const passthrough = routes(key.allowed_passthrough_routes);
  if (!disable && !passthrough) return NONE;
  return { ...(disable ? { disableGlobalGuardrails: true } : {}), ...(passthrough ? { allowedPassthroughRoutes: passthrough } : {}) };
}
