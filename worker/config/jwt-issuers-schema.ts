/**
 * LiteLLM's per-issuer JWT settings (`general_settings.litellm_jwtauth.issuers`, its `JWTIssuerConfig`) and OIDC
 * UserInfo settings (`oidc_userinfo_enabled`, `oidc_userinfo_endpoint`, `oidc_userinfo_cache_ttl`): read by
 * worker/auth/jwt-issuers.ts and worker/auth/oidc-userinfo.ts.
 */
import { z } from 'zod';
import { bool, str } from './fields.ts';

/** A claim's name or dot path (`customer.id`), as the global claim settings take it. */
const claimPath = str.regex(/^[^.\s]+(\.[^.\s]+)*$/, 'expected a claim name or dot path (e.g. "email" or "customer.id"), with no spaces or empty parts');

/** An http(s) URL: keys and identities are fetched from it. */
export const httpUrl = str.refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}, 'expected an http(s) URL');

/** The claim settings an issuer entry may set for its own tokens (LiteLLM's `JWTIssuerConfig`). */
export const ISSUER_CLAIM_FIELDS = ['user_id_jwt_field', 'user_email_jwt_field', 'team_id_jwt_field', 'team_ids_jwt_field', 'org_id_jwt_field', 'end_user_id_jwt_field'] as const;

export const jwtIssuerSchema = z.object({
  /** The exact `iss` of the provider's tokens (scheme and trailing slash included). */
  issuer: str.min(1, 'expected the exact "iss" of the provider\'s tokens'),
  /** What `aud` must hold; required unless `disable_audience_validation: true`. */
  audience: z.union([str.min(1, 'must not be empty'), z.array(str.min(1, 'must not be empty'), { error: 'expected a string or a list of strings' }).min(1, 'expected at least one audience')], { error: 'expected a string or a list of strings' }).optional(),
  disable_audience_validation: bool.optional(),
  /** The provider's JWKS URL (or its discovery document); without it, `<issuer>/.well-known/openid-configuration`. */
  jwks_url: httpUrl.optional(),
  user_id_jwt_field: claimPath.optional(),
  user_email_jwt_field: claimPath.optional(),
  team_id_jwt_field: claimPath.optional(),
  team_ids_jwt_field: claimPath.optional(),
  org_id_jwt_field: claimPath.optional(),
  end_user_id_jwt_field: claimPath.optional(),
}, { error: 'expected {issuer, audience, jwks_url, ...claim fields}' }).superRefine((entry, ctx) => {
  // As in LiteLLM: skipping the audience check must be said, never implied by a missing audience.
  if (entry.audience === undefined && entry.disable_audience_validation !== true) {
    ctx.addIssue({ code: 'custom', path: ['audience'], message: 'is required (the audience this gateway\'s tokens carry), unless disable_audience_validation: true' });
  }
  if (entry.audience !== undefined && entry.disable_audience_validation === true) {
    ctx.addIssue({ code: 'custom', path: ['disable_audience_validation'], message: 'cannot be combined with audience: set one of them' });
  }
  // Without jwks_url the keys are found at <issuer>/.well-known/openid-configuration: an issuer that is no URL has none.
  if (entry.jwks_url === undefined && !httpUrl.safeParse(entry.issuer).success) {
    ctx.addIssue({ code: 'custom', path: ['jwks_url'], message: `is required when issuer ("${entry.issuer}") is not an http(s) URL: the provider's keys are found at <issuer>/.well-known/openid-configuration otherwise` });
  }
});

export const jwtIssuersSchema = z.array(jwtIssuerSchema, { error: 'expected a list of {issuer, audience, jwks_url, ...}' }).superRefine((entries, ctx) => {
  // Two entries for one `iss` would leave it to order which keys verify its tokens.
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    if (seen.has(entry.issuer)) ctx.addIssue({ code: 'custom', path: [i, 'issuer'], message: `"${entry.issuer}" is listed twice: one entry per issuer` });
    seen.add(entry.issuer);
  });
});

export type JwtIssuerSettings = z.infer<typeof jwtIssuerSchema>;

/** The OIDC UserInfo settings, spread into litellm_jwtauth's schema. */
export const oidcUserInfoFields = {
  /** An opaque access token (not a JWT, not an `sk-` key) is the identity the provider's UserInfo endpoint returns for it. */
  oidc_userinfo_enabled: bool.optional(),
  oidc_userinfo_endpoint: httpUrl.optional(),
  /** Seconds a token's UserInfo answer is used before it is asked again (300 by default). */
  oidc_userinfo_cache_ttl: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    z.number({ error: 'expected a number of seconds' }).min(0, 'must not be negative').max(86_400, 'at most 86400 seconds (a day)'),
  ).optional(),
};
