import { claimField, type JwtAuthSettings } from '../config/jwt-schema.ts';
import { GatewayError } from '../errors.ts';
import { Jwks, verifyJwt } from './jwt-verify.ts';
import { log } from '../telemetry/log.ts';
import type { RolePermissions } from './jwt-permissions.ts';
import { JwtKeyMappings, type UnresolvedCaller } from './jwt-key-mapping.ts';
import type { AutoRegisterOptions } from './jwt-auto-register-params.ts';
import { JwtIssuers, unknownIssuer, type VerifiedToken } from './jwt-issuers.ts';
import { isAccessToken, jwtsNotAccepted, OidcUserInfo } from './oidc-userinfo.ts';
import { callerOf, type JwtCaller } from './jwt-caller.ts';
import { JwtRoleSync, type LimiterRefresh } from './jwt-role-sync.ts';

// The token → caller mapping (jwt-caller.ts) and the made-up key (jwt-subject.ts), for the modules that import them from here.
export { callerOf, DEFAULT_ADMIN_SCOPE, DEFAULT_TEAM_ROUTES, type JwtCaller } from './jwt-caller.ts';
export { JWT_TOKEN_PREFIX, jwtSubject, type JwtSubject, jwtToken, loggedKey } from './jwt-subject.ts';

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
  /** `sync_user_role_and_teams` (jwt-role-sync.ts); undefined (one property read per new token) when off. */
  readonly #sync: JwtRoleSync | undefined;

  /**
   * `rolePermissions`: `general_settings.role_permissions`, for `enforce_rbac` (jwt-permissions.ts); `refresh`: how
   * `sync_user_role_and_teams` tells limiters of the rows it changed (state.ts passes limits/client.ts refreshLimiter);
   * `autoRegister`: the key defaults and ceilings and `store_audit_logs`, for the keys `auto_register` mints.
   */
  constructor(settings: JwtAuthSettings, env: Record<string, unknown>, rolePermissions?: RolePermissions, refresh: LimiterRefresh = async () => undefined, autoRegister: AutoRegisterOptions = {}) {
    this.#settings = settings;
    this.#rolePermissions = rolePermissions;
    const field = claimField(settings);
    this.#mappings = field ? new JwtKeyMappings(settings, env, autoRegister) : undefined;
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
    this.#sync = settings.sync_user_role_and_teams ? new JwtRoleSync(env, settings, refresh) : undefined;
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
    const resolved = this.#mappings ? await this.#mappings.resolve(caller, now) : caller;
    // Once per verified token, not per call, and only when the token's policy admits it: the stored user then matches it (jwt-role-sync.ts).
    if (this.#sync) await this.#sync.sync(claims, settings, resolved, now);
    return resolved;
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
