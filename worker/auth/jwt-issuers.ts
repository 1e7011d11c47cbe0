/**
 * LiteLLM's per-issuer JWT settings (`litellm_jwtauth.issuers`): a token's `iss` picks its entry, and the token is
 * verified only with that entry's keys (`jwks_url`, else the issuer's OIDC discovery document), audience and
 * issuer, so an `iss` is always that of the provider whose key signed it: provider B cannot sign a token claiming
 * A's issuer. The entry's claim fields then override the global ones for its tokens. A token whose `iss` is not
 * listed goes to the global provider (`JWT_PUBLIC_KEY_URL`), as in LiteLLM; without one it is refused (401).
 */
import type { JwtAuthSettings } from '../config/jwt-schema.ts';
import { ISSUER_CLAIM_FIELDS, type JwtIssuerSettings } from '../config/jwt-issuers-schema.ts';
import { claimAt } from './jwt-claims.ts';
import { type Claims, invalidJwt, Jwks, verifyJwt } from './jwt-verify.ts';

/** A verified token's claims and the claim settings that read them. */
export interface VerifiedToken {
  claims: Claims;
  settings: JwtAuthSettings;
}

type ClaimField = (typeof ISSUER_CLAIM_FIELDS)[number];

/**
 * The names under which an entry's claim values are handed to the global reading (LiteLLM's `_litellm_*` claims).
 * A token's own claims of these names are dropped first, so a token cannot name its own team or user this way.
 */
const NORMALIZED: Record<ClaimField, string> = {
  user_id_jwt_field: '_litellm_user_id',
  user_email_jwt_field: '_litellm_user_email',
  team_id_jwt_field: '_litellm_team_id',
  team_ids_jwt_field: '_litellm_team_ids',
  org_id_jwt_field: '_litellm_org_id',
  end_user_id_jwt_field: '_litellm_end_user_id',
};
const INTERNAL = ['_litellm_jwt_issuer', ...Object.values(NORMALIZED)];

interface Entry {
  settings: JwtIssuerSettings;
  jwks: Jwks;
}

const decoder = new TextDecoder();

/** The `iss` a token says it has, before anything is verified: only used to pick the keys that must verify it. */
function claimedIssuer(token: string): string | undefined {
  const part = token.split('.')[1] ?? '';
  try {
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4));
    const payload: unknown = JSON.parse(decoder.decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))));
    const iss = payload && typeof payload === 'object' ? (payload as Claims).iss : undefined;
    return typeof iss === 'string' && iss ? iss : undefined;
  } catch {
    return undefined;
  }
}

export class JwtIssuers {
  readonly #byIssuer = new Map<string, Entry>();

  /** `ttlMs` and `leewaySeconds`: litellm_jwtauth's `public_key_ttl` and `leeway`, which hold for every issuer. */
  constructor(entries: JwtIssuerSettings[], ttlMs: number, leewaySeconds: number) {
    for (const settings of entries) {
      const url = settings.jwks_url ?? `${settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const jwks = new Jwks({
        urls: [url], ttlMs, leewaySeconds, issuer: settings.issuer, origin: `litellm_jwtauth.issuers entry for ${settings.issuer}`,
        ...(settings.audience !== undefined ? { audience: settings.audience } : {}),
      });
      this.#byIssuer.set(settings.issuer, { settings, jwks });
    }
  }

  /**
   * The token verified by the entry its `iss` names, with the claim settings for it; undefined when no entry names
   * its `iss` (the global provider's, if any). A token that fails its entry's checks is refused (401), never tried
   * with other keys.
   */
  async verify(token: string, global: JwtAuthSettings, now: number): Promise<VerifiedToken | undefined> {
    const iss = claimedIssuer(token);
    const entry = iss === undefined ? undefined : this.#byIssuer.get(iss);
    if (!entry) return undefined;
    return issuerView(await verifyJwt(token, entry.jwks, now), entry.settings, global);
  }
}

/**
 * The claims and settings an entry's token is read with, as LiteLLM normalizes it: each claim field the entry sets
 * whose claim the token has (not null, not "") is read from the entry's claim; any other falls back to the global
 * setting. A list under the entry's `team_id_jwt_field` gives its first team, as LiteLLM takes it.
 */
export function issuerView(verified: Claims, entry: JwtIssuerSettings, global: JwtAuthSettings): VerifiedToken {
  const claims: Claims = { ...verified };
  for (const name of INTERNAL) delete claims[name];
  let settings = global;
  for (const field of ISSUER_CLAIM_FIELDS) {
    const path = entry[field];
    if (path === undefined) continue;
    let value = claimAt(verified, path);
    if (field === 'team_id_jwt_field' && Array.isArray(value)) value = value[0];
    if (value === undefined || value === null || value === '') continue;
    claims[NORMALIZED[field]] = value;
    if (settings === global) settings = { ...global };
    settings[field] = NORMALIZED[field];
  }
  return { claims, settings };
}

/** The 401 for a token whose `iss` no entry names when there is no global provider to fall back on. */
export function unknownIssuer(): Error {
  return invalidJwt('its issuer is not one of litellm_jwtauth.issuers (and JWT_PUBLIC_KEY_URL names no other provider)');
}
