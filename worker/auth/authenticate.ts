import { GatewayError } from '../errors.ts';
import type { RequestHeaders } from '../providers/types.ts';
import { presentedKey } from './credentials.ts';
import { checkRoute } from './routes.ts';
import type { KeyPolicy, KeyStore } from './key-policy.ts';
import type { JwtAuth, JwtCaller } from './jwt-identity.ts';
import type { LitellmUserRole } from '../config/jwt-schema.ts';
import { checkJwtRoute, type JwtPermits } from './jwt-permissions.ts';
import { jwtTeamForRoute } from './jwt-team-choice.ts';
import { looksLikeJwt } from './jwt-verify.ts';
import { JWT_KEY_ROUTES } from './jwt-key-mapping.ts';
import { type AllowedIps, checkClientIp, clientIp } from './client-ip.ts';
import { abbreviateKey, digestsEqual, hashPresentedKey } from './secrets.ts';
import { isPublicRoute, PUBLIC_CALLER_TOKEN, publicCallerPolicy } from './public-routes.ts';

/**
 * `permits`: what a JWT's role and scopes permit (jwt-permissions.ts), carried with the caller so that
 * `authorizeModel` (models/access.ts), the one place every route authorizes a model, holds them too.
 */
export type Caller =
  | { kind: 'master'; token: string; permits?: JwtPermits }
  | { kind: 'key'; token: string; policy: KeyPolicy; endUser?: string; viaJwt?: true; permits?: JwtPermits; userRole?: LitellmUserRole };

/** What identifying a caller needs of the gateway's state (state.ts). */
export interface AuthState {
  /** SHA-256 hex of the master key (see `masterKeyHash` in state.ts). */
  masterKeyHash: string | undefined;
  /** `general_settings.litellm_key_header_name`: a header the key may come in, before the usual ones. */
  keyHeader?: string | undefined;
  /** `enable_jwt_auth`: an OpenID provider's JWTs are accepted beside keys. */
  jwt?: JwtAuth | undefined;
  /** `allowed_ips`: where authenticated requests must come from. */
  allowedIps?: AllowedIps | undefined;
  /** Where the client's address is read from (client-ip.ts), for OIDC UserInfo's per-client budget of new tokens. */
  clientSource?: Pick<AllowedIps, 'useForwardedFor' | 'trustEdge'> | undefined;
}

export interface Who {
  /** The key's hash (the master key's for it and for a JWT with the admin scope), or the made-up key of a JWT's subject. */
  token: string;
  master: boolean;
  /** The key as errors may show it (`sk-...ABCD`). */
  shown: string;
  /** The end user a JWT names (`end_user_id_jwt_field`): its calls' end user, whatever the request's `user` says. */
  endUser?: string;
  /** A JWT listing several teams: the made-up key of each (jwt-identity.ts), for a model call to choose from (jwt-teams.ts). */
  alternatives?: string[];
  /** What a JWT's role and scopes permit (litellm_jwtauth's enforce_rbac, enforce_scope_based_access): only when they restrict it. */
  permits?: JwtPermits;
  /** A JWT admitted as the virtual key its client claim is mapped to (`token` is that key's hash; jwt-key-mapping.ts). */
  mapped?: true;
  /** The user role a JWT's `jwt_litellm_role_map` entry gives it (jwt-role-map.ts): its role on the admin API. */
  userRole?: LitellmUserRole;
}

export interface AuthOptions extends AuthState {
  /** The route called, held to the key's `allowed_routes`; without a key, looked up in `general_settings.public_routes`. */
  path?: string;
  /** Virtual keys; without a store only the master key is accepted (the admin Worker's case). */
  keys?: KeyStore;
  now?: () => number;
}

/**
 * The presented key's hash, and whether it is the master key; with `enable_jwt_auth`, a JWT's caller
 * (jwt-identity.ts). Throws a 401 when no key was sent, or a JWT does not verify. `path` is the route called: a
 * JWT's role and scope routes are held here, since the key may come where no middleware looks (`?key=`, a
 * WebSocket subprotocol, a pass-through endpoint's own header).
 */
export async function identify(headers: RequestHeaders, state: AuthState, path: string, keyHeader = state.keyHeader): Promise<Who> {
  const key = keyFrom(headers, state, keyHeader);
  if (!key) throw noKey();
  const who = await holderOf(key, state, headers);
  if (who.permits) checkJwtRoute(who.permits, path);
  return who;
}

/** The key the request presents, once its address is checked against `allowed_ips` (before anything else). */
function keyFrom(headers: RequestHeaders, state: AuthState, keyHeader: string | undefined): string | undefined {
  if (state.allowedIps) checkClientIp(headers, state.allowedIps);
  return presentedKey(headers, keyHeader);
}

function noKey(): GatewayError {
  return new GatewayError('Authentication Error, No api key passed in.', { status: 401, type: 'auth_error', param: 'key' });
}

async function holderOf(key: string, state: AuthState, headers: RequestHeaders): Promise<Who> {
  if (state.jwt && looksLikeJwt(key)) {
    const caller = await state.jwt.caller(key);
    const who = jwtHolder(caller, state);
    // LiteLLM's role and scope permissions (jwt-permissions.ts): routes held in authenticate / identify, models in authorizeModel (models/access.ts).
    return caller.permits ? { ...who, permits: caller.permits } : who;
  }
  const token = await hashPresentedKey(key);
  const master = !!state.masterKeyHash && digestsEqual(token, state.masterKeyHash);
  // OIDC UserInfo (oidc-userinfo.ts): an access token goes to the provider; the master key never does.
  if (!master && state.jwt?.takesAccessToken(key)) {
    const client = state.clientSource ? clientIp(headers, state.clientSource)?.slice(0, 64) : undefined;
    const caller = await state.jwt.caller(key, Date.now(), client);
    const who = jwtHolder(caller, state);
    return caller.permits ? { ...who, permits: caller.permits } : who;
  }
  return { token, master, shown: abbreviateKey(key) };
}

/** Who a verified JWT's caller is (jwt-identity.ts). */
function jwtHolder(caller: JwtCaller, state: AuthState): Who {
  // An admin's token calls as the master key does (its hash is the token spend is recorded under).
  if (caller.admin) return { token: state.masterKeyHash ?? 'jwt-admin', master: true, shown: 'JWT' };
  // A mapped token is its key's, but its end user (end_user_id_jwt_field) stays the call's, so its budget holds.
  if (caller.mapped) return caller.endUser ? { token: caller.token, master: false, shown: 'JWT', mapped: true, endUser: caller.endUser } : { token: caller.token, master: false, shown: 'JWT', mapped: true };
  const who: Who = { token: caller.token, master: false, shown: 'JWT' };
  if (caller.endUser) who.endUser = caller.endUser;
  if (caller.alternatives) who.alternatives = caller.alternatives;
  if (caller.userRole) who.userRole = caller.userRole;
  return who;
}

/**
 * LiteLLM's 401 for a key that is not in the database: the key shown only as `sk-...ABCD`, with its hash. A JWT's
 * holder (`shown` is `JWT`) sent no key: the hash would be of the key its client is mapped to (jwt-key-mapping.ts),
 * which is not theirs to see, so it is left out.
 */
export function unknownKey(shown: string, token: string): GatewayError {
  const hash = shown === 'JWT' ? '' : `, Key Hash (Token) =${token}`;
  return new GatewayError(
    `Authentication Error, Invalid proxy server token passed. Received API Key = ${shown}${hash}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
    { status: 401, type: 'token_not_found_in_db', param: 'key' },
  );
}

/**
 * Who is calling: the master key (its hash compared in constant time) or a virtual
 * key, found by its SHA-256 hash. Refusals use LiteLLM's error types; no
 * message ever carries more of a key than `sk-...ABCD`. A request with no key on one
 * of `general_settings.public_routes` is the public caller (public-routes.ts); one with
 * a key is authenticated as anywhere else.
 */
export async function authenticate(headers: Headers, options: AuthOptions): Promise<Caller> {
  const key = keyFrom(headers, options, options.keyHeader);
  if (!key) {
    // general_settings.public_routes, looked up only when no key came: a keyed request pays nothing for it.
    if (options.path !== undefined && isPublicRoute(options.path)) return { kind: 'key', token: PUBLIC_CALLER_TOKEN, policy: publicCallerPolicy(options.path) };
    throw noKey();
  }
  const held = await holderOf(key, options, headers);
  if (held.permits && options.path !== undefined) checkJwtRoute(held.permits, options.path);
  const { master, shown, endUser } = held;
  // A JWT listing several teams, on a route that calls no model: the first listed team that exists (jwt-teams.ts).
  const token = held.alternatives && options.keys ? await jwtTeamForRoute(options.keys, held.alternatives) : held.token;
  if (master) return held.permits ? { kind: 'master', token, permits: held.permits } : { kind: 'master', token };
  const policy = options.keys ? await options.keys.lookup(token) : null;
  if (!policy) throw unknownKey(shown, token);
  checkKeyUse(policy, options.now?.() ?? Date.now(), options.path, held.mapped === true);
  if (held.mapped) return { kind: 'key', token, policy, viaJwt: true };
  const caller: Caller = endUser ? { kind: 'key', token, policy, endUser } : { kind: 'key', token, policy };
  if (held.permits) caller.permits = held.permits;
  if (held.userRole) caller.userRole = held.userRole;
  return caller;
}

/**
 * Refuses a known key that may not call `path` now (checkUsable), or whose `allowed_routes` leave it out. As in
 * LiteLLM, a JWT-bound key (`mapped`) calls LLM routes only, whatever its own allowed_routes: no admin API.
 */
export function checkKeyUse(policy: KeyPolicy, now: number, path: string | undefined, mapped: boolean): void {
  checkUsable(policy, now);
  if (path === undefined) return;
  if (policy.allowedRoutes.length) checkRoute(policy.allowedRoutes, path);
  if (mapped) checkRoute(JWT_KEY_ROUTES, path);
}

/** Refuses a known key that may not call now: refused by its limiter, blocked, expired, or its team blocked. */
export function checkUsable(policy: KeyPolicy, now: number): void {
  if (policy.refusal) throw new GatewayError(policy.refusal.message, { status: policy.refusal.status, type: policy.refusal.type, param: 'key' });
  if (policy.blocked) {
    throw new GatewayError('Authentication Error - Key is blocked. Update via `/key/unblock` if you\'re admin.', {
      status: 403, type: 'auth_error', param: 'key',
    });
  }
  if (policy.expires && policy.expires.getTime() < now) {
    throw new GatewayError(
      `Authentication Error - Expired Key. Key Expiry time ${policy.expires.toISOString()} and current time ${new Date(now).toISOString()}`,
      { status: 401, type: 'expired_key', param: 'key' },
    );
  }
  if (policy.team?.blocked) {
    throw new GatewayError(`Authentication Error - Team=${policy.team.id} is blocked. Update via \`/team/unblock\` if you're admin.`, {
      status: 403, type: 'auth_error', param: 'team',
    });
  }
}
