import type { Caller } from '../auth/authenticate.ts';
import { JWT_TOKEN_PREFIX } from '../auth/jwt-identity.ts';
import { MASTER_USER } from '../telemetry/metrics/labels.ts';

/** A header value a provider may be sent: printable ASCII only (no CR/LF, nothing Headers would reject). */
const SAFE_VALUE = /^[\x20-\x7e]*$/;
/** Long enough for any id or alias the admin API stores; an upstream's header limits stay far off. */
const MAX_VALUE_CHARS = 1024;

/**
 * LiteLLM's `litellm_settings.add_user_information_to_llm_headers`: who made a model call, as the
 * `x-litellm-user_api_key_*` headers its proxy adds to the provider request (its
 * `get_sanitized_user_information_from_key`, each name prefixed `x-litellm-`, empty ones left out), so a
 * provider or an egress proxy can attribute and audit usage. The key itself is never sent, only its
 * SHA-256 hash: the value LiteLLM's `user_api_key_hash` holds. The master key is LiteLLM's admin user
 * (`default_user_id`); a JWT's caller has no key hash (LiteLLM's `api_key` is unset for it) unless the
 * JWT is mapped to a virtual key. A value carrying anything but printable ASCII (a CR/LF, a non-ASCII
 * alias) is left out rather than sent mangled: Workers' Headers would refuse it and httpx would not
 * encode it either.
 */
export function userInformationHeaders(caller: Caller, endUser: string | null, jwt = false): Record<string, string> {
  // A JWT's caller id (`jwt:` + its ids, an email among them) is never sent. An admin-scope token calls as the
  // master key without holding it: as LiteLLM (no api_key, no user_id for it), only its end user goes.
  const viaJwt = caller.token.startsWith(JWT_TOKEN_PREFIX);
  const fields: Record<string, string | number | null | undefined> = caller.kind === 'master'
    ? (jwt ? { user_api_key_end_user_id: endUser } : { user_api_key_hash: caller.token, user_api_key_user_id: MASTER_USER, user_api_key_end_user_id: endUser })
    : {
        user_api_key_hash: viaJwt ? null : caller.token,
        user_api_key_alias: caller.policy.keyAlias,
        user_api_key_spend: viaJwt ? null : caller.policy.spend,
        user_api_key_max_budget: caller.policy.maxBudget,
        user_api_key_team_id: caller.policy.team?.id,
        user_api_key_user_id: caller.policy.userId,
        user_api_key_org_id: caller.policy.organizationId ?? caller.policy.team?.organizationId,
        user_api_key_team_alias: caller.policy.team?.alias,
        user_api_key_end_user_id: endUser,
      };
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(fields)) {
    if (raw === null || raw === undefined || raw === '') continue;
    const value = String(raw);
    if (value.length <= MAX_VALUE_CHARS && SAFE_VALUE.test(value)) out[`x-litellm-${name}`] = value;
  }
  return out;
}
