import type { JwtAuthSettings } from '../config/jwt-schema.ts';
import { GatewayError } from '../errors.ts';
import type { Claims } from './jwt-verify.ts';

/** Reading a verified JWT's claims as LiteLLM's JWT auth reads them (jwt-identity.ts names the caller from them). */

/**
 * A claim by dot path (`resource_access.litellm.roles`), as LiteLLM reads nested claims; `\.` is a dot within a
 * name, as in LiteLLM's Kubernetes example `kubernetes\.io.namespace` (the claim `kubernetes.io`'s `namespace`).
 */
export function claimAt(claims: Claims, path: string | undefined): unknown {
  if (!path) return undefined;
  if (Object.hasOwn(claims, path)) return claims[path];
  const parts = path.includes('\\') ? path.split(/(?<!\\)\./).map((part) => part.replace(/\\\./g, '.')) : path.split('.');
  let value: unknown = claims;
  for (const part of parts) {
    if (!value || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Longest alias claim taken: LiteLLM's aliases are names, and an identity is never truncated into another. */
export const MAX_ALIAS_LENGTH = 256;

/**
 * A team's or organization's alias claim (`team_alias_jwt_field`, `org_alias_jwt_field`); null when the setting is
 * off (a property read). An over-long alias is refused (401), never cut to a prefix that could be another's alias.
 */
export function aliasOf(claims: Claims, field: string | undefined, setting: 'team_alias_jwt_field' | 'org_alias_jwt_field'): string | null {
  if (field === undefined) return null;
  const alias = idOf(claimAt(claims, field));
  if (alias !== null && alias.length > MAX_ALIAS_LENGTH) {
    throw new GatewayError(`Authentication Error, JWT claim for ${setting} is longer than ${MAX_ALIAS_LENGTH} characters`, { status: 401, type: 'auth_error', param: setting });
  }
  return alias;
}

/** A claim as an id: a non-empty string, or a finite number as its text. */
export const idOf = (value: unknown): string | null => (typeof value === 'string' && value ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : null);

/** An email claim: a non-empty string, bounded (LiteLLM stores it as the user's `user_email`). */
export const emailOf = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim().slice(0, 320) : null);

/** The token's scopes, from `scope` (space separated) and `scp` (a list or a string). */
export function scopes(claims: Claims): string[] {
  const out: string[] = [];
  for (const name of ['scope', 'scp']) {
    const value = claims[name];
    if (typeof value === 'string') out.push(...value.split(/\s+/).filter(Boolean));
    else if (Array.isArray(value)) out.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return out;
}

/** Whether an email is of the allowed domain: what follows its last "@", any case, as LiteLLM compares it. */
function emailDomainAllowed(email: string, domain: string): boolean {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase() === domain.toLowerCase();
}

/**
 * Refuses (403) a token whose email (`user_email_jwt_field`) is outside `user_allowed_email_domain`: a refusal of the
 * token itself, which stands whether or not the token names anyone or is mapped to a key.
 */
export function checkEmailDomain(email: string | null, settings: JwtAuthSettings): void {
  if (email === null || settings.user_allowed_email_domain === undefined || emailDomainAllowed(email, settings.user_allowed_email_domain)) return;
  throw new GatewayError(`Authentication Error, the JWT's email domain is not allowed. Allowed domain=${settings.user_allowed_email_domain} (litellm_jwtauth.user_allowed_email_domain)`, {
    status: 403, type: 'auth_error', param: 'user_email',
  });
}
