/**
 * The key a JWT's subject is admitted as (jwt-caller.ts names the subject): its ids in the clear behind `jwt:`, which
 * the limits read back (worker/limits/jwt-policy.ts) and logs redact.
 */

export interface JwtSubject {
  teamId: string | null;
  userId: string | null;
  orgId: string | null;
  /** The user's email (`user_email_jwt_field`): an upserted user gets it, and an unknown user id is looked up by it. */
  email?: string | null;
  /**
   * The team (organization) named by its alias (`team_alias_jwt_field`, `org_alias_jwt_field`) where the token has no
   * id for it: limits/jwt-aliases.ts finds the one with that `team_alias` (`organization_alias`) with each policy read.
   */
  teamAlias?: string | null;
  orgAlias?: string | null;
}

export const JWT_TOKEN_PREFIX = 'jwt:';
export const DEFAULT_ADMIN_SCOPE = 'litellm_proxy_admin';
export const DEFAULT_TEAM_ROUTES = ['openai_routes', 'info_routes'];

/**
 * The made-up key of a JWT's subject: its ids in a fixed order (the email next, only when there is one, then the team
 * and organization aliases, only when there is one), JSON in base64url.
 */
export function jwtToken(subject: JwtSubject): string {
  const ids = [subject.teamId, subject.userId, subject.orgId];
  const aliased = !!(subject.teamAlias || subject.orgAlias);
  if (subject.email || aliased) ids.push(subject.email || null);
  if (aliased) ids.push(subject.teamAlias || null, subject.orgAlias || null);
  let binary = '';
  for (const byte of new TextEncoder().encode(JSON.stringify(ids))) binary += String.fromCharCode(byte);
  return JWT_TOKEN_PREFIX + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * An id as logs may show it: a JWT's made-up key carries its ids and email in the clear, so it is shown as
 * `jwt:(redacted)`; anything else (a key's hash, a team id) as it is.
 */
export function loggedKey(id: string): string {
  return id.startsWith(JWT_TOKEN_PREFIX) ? `${JWT_TOKEN_PREFIX}(redacted)` : id;
}

/** The subject of a made-up key, or undefined for any other token. */
export function jwtSubject(token: string): JwtSubject | undefined {
  if (!token.startsWith(JWT_TOKEN_PREFIX)) return undefined;
  try {
    const binary = atob(token.slice(JWT_TOKEN_PREFIX.length).replace(/-/g, '+').replace(/_/g, '/'));
    const ids: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))));
    if (!Array.isArray(ids) || (ids.length !== 3 && ids.length !== 4 && ids.length !== 6) || !ids.every((v) => v === null || typeof v === 'string')) return undefined;
    const [teamId, userId, orgId, email, teamAlias, orgAlias] = ids as (string | null)[];
    return {
      teamId: teamId ?? null, userId: userId ?? null, orgId: orgId ?? null, ...(email ? { email } : {}),
      ...(teamAlias ? { teamAlias } : {}), ...(orgAlias ? { orgAlias } : {}),
    };
  } catch {
    return undefined;
  }
}
