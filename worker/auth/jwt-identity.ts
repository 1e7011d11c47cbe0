import { claimField, type JwtAuthSettings } from '../config/jwt-schema.ts';
import { GatewayError } from '../errors.ts';
import { aliasOf, checkEmailDomain, claimAt, emailOf, idOf, scopes } from './jwt-claims.ts';
import { type Claims, Jwks, verifyJwt } from './jwt-verify.ts';
import { log } from '../telemetry/log.ts';
import { type JwtPermits, permitsOf, type RolePermissions, type TokenFacts, usesPermissions } from './jwt-permissions.ts';
import { JwtKeyMappings, type UnresolvedCaller } from './jwt-key-mapping.ts';
import { namesNoOne } from './jwt-refusals.ts';
import { JwtIssuers, unknownIssuer, type VerifiedToken } from './jwt-issuers.ts';
import { isAccessToken, jwtsNotAccepted, OidcUserInfo } from './oidc-userinfo.ts';

/**
 * Who a verified JWT says is calling (LiteLLM's JWT auth): a proxy admin (the admin scope), or a team, a user
 * and their organization and end user, read from the claims the config names. A caller that is not an admin
 * is admitted as a key the gateway makes up for that identity, `jwt:` and the identity (jwtKeyPolicy in
 * worker/limits/jwt-policy.ts gives it its policy): it has no limits of its own, so its team's, user's,
 * organization's and end user's hold its calls, through the same limiters and spend logs as a virtual key's.
 * A client cannot present such a token: a key it sends is hashed to hex.
 */

export interface JwtCaller {
  admin: boolean;
  /** The made-up key a non-admin caller is admitted as (see above). */
  token: string;
  /**
   * The end user (customer) the token names (`end_user_id_jwt_field`): the end user of every call it makes, in
   * place of the request's `user`, so a client cannot move its calls off the end user's budget. Not part of the key.
   */
  endUser?: string;
  /**
   * When the team comes from `team_ids_jwt_field`'s list of several: the made-up key of each listed team, in the
   * list's order (`token` is the first's). A model call takes the first whose team exists and may call the model
   * (worker/auth/jwt-teams.ts), as LiteLLM does.
   */
  alternatives?: string[];
  /** What its role and scopes permit (jwt-permissions.ts): only with LiteLLM's JWT permission settings. */
  permits?: JwtPermits;
  /** `token` is the hash of the virtual key the token's client claim is mapped to (jwt-key-mapping.ts): the call is that key's. */
  mapped?: true;
}

/** The most teams of a token's list tried for a model call. */
const MAX_LISTED_TEAMS = 16;

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

/**
 * The caller a token's claims name (a 401 when they name no one the settings map), with what its role and scopes
 * permit when the settings use LiteLLM's JWT permissions (jwt-permissions.ts; a 403 when they refuse the token).
 */
export function callerOf(claims: Claims, settings: JwtAuthSettings, rolePermissions?: RolePermissions): JwtCaller {
  if (!usesPermissions(settings)) return namedCaller(claims, settings);
  const scoped = scopes(claims);
  const teams = claimAt(claims, settings.team_ids_jwt_field);
  const facts: TokenFacts = {
    claim: (path) => claimAt(claims, path), scopes: scoped,
    fixedTeam: idOf(claimAt(claims, settings.team_id_jwt_field)) ?? settings.team_id_default ?? null,
    userClaim: idOf(claimAt(claims, settings.user_id_jwt_field)), email: emailOf(claimAt(claims, settings.user_email_jwt_field)),
  };
  // As in LiteLLM, only the admin scope makes an admin: a role_mappings proxy_admin only picks its role_permissions.
  const admin = scoped.includes(settings.admin_jwt_scope ?? DEFAULT_ADMIN_SCOPE);
  // The alias names the team the token is admitted as, so it counts where a team is needed; never for the role
  // (LiteLLM's get_rbac_role reads get_team_id, which reads no alias).
  const team = admin ? null : facts.fixedTeam ?? aliasOf(claims, settings.team_alias_jwt_field, 'team_alias_jwt_field')
    ?? (Array.isArray(teams) ? teams.map(idOf).find((t) => t !== null) ?? null : idOf(teams));
  // What refuses the token itself comes before the permits' refusals of a token naming no one, which a token
  // mapped to a key is let past (jwt-key-mapping.ts): a mapped token must not skip the email domain check.
  if (!admin) checkEmailDomain(facts.email, settings);
  const permits = permitsOf(facts, settings, rolePermissions, admin, team);
  const caller: JwtCaller = admin ? { admin: true, token: '' } : namedCaller(claims, settings);
  if (permits) caller.permits = permits;
  return caller;
}

function namedCaller(claims: Claims, settings: JwtAuthSettings): JwtCaller {
  if (scopes(claims).includes(settings.admin_jwt_scope ?? DEFAULT_ADMIN_SCOPE)) return { admin: true, token: '' };
  const teams = claimAt(claims, settings.team_ids_jwt_field);
  // As in LiteLLM: the team claim, else the team's alias claim, else team_id_default, and only then the list of teams;
  // but a token with team_id_default and a non-empty list claim keeps the default over its alias (LiteLLM's get_team_id).
  const claimed = idOf(claimAt(claims, settings.team_id_jwt_field));
  const inList = [...new Set(Array.isArray(teams) ? teams.map(idOf).filter((t) => t !== null) : [idOf(teams)].filter((t) => t !== null))];
  const defaulted = settings.team_id_default ?? null;
  const aliased = claimed === null ? aliasOf(claims, settings.team_alias_jwt_field, 'team_alias_jwt_field') : null;
  const teamAlias = aliased !== null && (defaulted === null || inList.length === 0) ? aliased : null;
  const fixed = claimed ?? (teamAlias === null ? defaulted : null);
  const listed = fixed !== null || teamAlias !== null ? [] : inList.slice(0, MAX_LISTED_TEAMS);
  const teamId = fixed ?? listed[0] ?? null;
  const email = emailOf(claimAt(claims, settings.user_email_jwt_field));
  checkEmailDomain(email, settings);
  // As in LiteLLM, a token without the user claim is the user its email names.
  const userId = idOf(claimAt(claims, settings.user_id_jwt_field)) ?? email;
  if (teamId === null && teamAlias === null && userId === null) {
    throw namesNoOne(new GatewayError('Authentication Error, JWT names no team, user or admin scope this gateway maps (litellm_jwtauth: team_id_jwt_field, team_alias_jwt_field, team_ids_jwt_field, team_id_default, user_id_jwt_field, user_email_jwt_field, admin_jwt_scope)', {
      status: 401, type: 'auth_error', param: 'key',
    }));
  }
  const orgId = idOf(claimAt(claims, settings.org_id_jwt_field));
  const orgAlias = orgId === null ? aliasOf(claims, settings.org_alias_jwt_field, 'org_alias_jwt_field') : null;
  const token = jwtToken({ teamId, userId, orgId, email, teamAlias, orgAlias });
  const caller: JwtCaller = { admin: false, token };
  // Bounded as a request's `user` is (call-context.ts endUserOf).
  const endUser = settings.end_user_id_jwt_field === undefined ? null : idOf(claimAt(claims, settings.end_user_id_jwt_field))?.slice(0, 256);
  if (endUser) caller.endUser = endUser;
  if (listed.length > 1) caller.alternatives = listed.map((team) => jwtToken({ teamId: team, userId, orgId, email, orgAlias }));
  return caller;
}

/**
 * Verified tokens' callers, per isolate, until the token expires (at most 5 minutes): a client sends the same
 * token call after call. Bounded by the tokens' total length (tokens with group claims run to kilobytes); when
 * full, the oldest half goes.
 */
const MAX_REMEMBERED_CHARS = 4_000_000;
const REMEMBER_MS = 300_000;

export class JwtAuth {
  readonly #jwks: Jwks | undefined;
  readonly #settings: JwtAuthSettings;
  readonly #rolePermissions: RolePermissions | undefined;
  /** `virtual_key_claim_field`'s claim → virtual key lookups; undefined (one property read a call) when unset. */
  readonly #mappings: JwtKeyMappings | undefined;
  readonly #known = new Map<string, { caller: JwtCaller; until: number }>();
  #knownChars = 0;
  /** `litellm_jwtauth.issuers` (jwt-issuers.ts); undefined when unset. */
  readonly #issuers: JwtIssuers | undefined;
  /** `oidc_userinfo_enabled` (oidc-userinfo.ts), and how long a token's answer is used (`oidc_userinfo_cache_ttl`). */
  readonly #userInfo: OidcUserInfo | undefined;
  readonly #userInfoMs: number;

  /** `rolePermissions`: `general_settings.role_permissions`, for `enforce_rbac` (jwt-permissions.ts). */
  constructor(settings: JwtAuthSettings, env: Record<string, unknown>, rolePermissions?: RolePermissions) {
    this.#settings = settings;
    this.#rolePermissions = rolePermissions;
    const field = claimField(settings);
    this.#mappings = field ? new JwtKeyMappings(settings, env) : undefined;
    const text = (name: string) => (typeof env[name] === 'string' && env[name] ? env[name] : undefined);
    const urls = (text('JWT_PUBLIC_KEY_URL') ?? '').split(',').map((u) => u.trim()).filter(Boolean);
    if (urls.length && !text('JWT_AUDIENCE')) {
      log.warn('enable_jwt_auth: JWT_AUDIENCE is not set, so any token the identity provider signs for any application is accepted; set it to this gateway\'s audience');
    }
    this.#jwks = urls.length ? new Jwks({
      urls, ttlMs: (settings.public_key_ttl ?? 600) * 1000, audience: text('JWT_AUDIENCE'), issuer: text('JWT_ISSUER'), leewaySeconds: settings.leeway ?? 0,
    }) : undefined;
    this.#issuers = settings.issuers?.length ? new JwtIssuers(settings.issuers, (settings.public_key_ttl ?? 600) * 1000, settings.leeway ?? 0) : undefined;
    this.#userInfo = settings.oidc_userinfo_enabled && settings.oidc_userinfo_endpoint ? new OidcUserInfo(settings.oidc_userinfo_endpoint) : undefined;
    this.#userInfoMs = (settings.oidc_userinfo_cache_ttl ?? 300) * 1000;
  }

  /** Whether a credential that is neither a JWT nor a virtual key is an access token for OIDC UserInfo (authenticate.ts). */
  takesAccessToken(key: string): boolean {
    return this.#userInfo !== undefined && isAccessToken(key);
  }

  /** `client`: the caller's address where the gateway knows it, which UserInfo's budget for new tokens is kept by. */
  async caller(token: string, now = Date.now(), client?: string): Promise<JwtCaller> {
    const known = this.#known.get(token);
    if (known && known.until > now) return this.#mappings ? this.#mappings.resolve(known.caller, now) : known.caller;
    const { claims, settings, until } = await this.#claims(token, now, client);
    const named = () => callerOf(claims, settings, this.#rolePermissions);
    let caller: UnresolvedCaller;
    try {
      caller = this.#mappings ? this.#mappings.unresolved(claims, named) : named();
    } catch (err) {
      // A UserInfo identity refused here is refused from memory for a while, not asked about again (oidc-userinfo.ts).
      if (this.#userInfo && isAccessToken(token)) await this.#userInfo.refuse(token, err, now);
      throw err;
    }
    if (this.#knownChars + token.length > MAX_REMEMBERED_CHARS) this.#forgetOldest();
    if (!this.#known.has(token)) this.#knownChars += token.length;
    this.#known.set(token, { caller, until });
    return this.#mappings ? this.#mappings.resolve(caller, now) : caller;
  }

  /** A token's claims, the settings reading them (jwt-issuers.ts) and until when its caller is kept (UserInfo: its TTL). */
  async #claims(token: string, now: number, client?: string): Promise<VerifiedToken & { until: number }> {
    if (this.#userInfo && isAccessToken(token)) return { claims: await this.#userInfo.claims(token, now, client), settings: this.#settings, until: now + this.#userInfoMs };
    const verified = this.#issuers ? await this.#issuers.verify(token, this.#settings, now) : undefined;
    const { claims, settings } = verified ?? { claims: await verifyJwt(token, this.#globalKeys(), now), settings: this.#settings };
    return { claims, settings, until: Math.min(now + REMEMBER_MS, typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity) };
  }

  /** JWT_PUBLIC_KEY_URL's keys: a 401 when only issuer entries or UserInfo are set (a setup without JWTs), a 500 when nothing is. */
  #globalKeys(): Jwks {
    if (this.#jwks) return this.#jwks;
    if (this.#issuers) throw unknownIssuer();
    if (this.#userInfo) throw jwtsNotAccepted();
    throw new GatewayError('enable_jwt_auth is on but JWT_PUBLIC_KEY_URL is not set: the gateway has no keys to verify JWTs with', { status: 500, type: 'internal_server_error' });
  }

  #forgetOldest(): void {
    let drop = Math.ceil(this.#known.size / 2);
    for (const token of this.#known.keys()) {
      if (drop-- <= 0) break;
      this.#known.delete(token);
      this.#knownChars -= token.length;
    }
  }
}
