/**
 * `general_settings.admin_only_routes` (LiteLLM's `RouteChecks.custom_admin_only_route_check`): routes
 * only proxy admins may call. LiteLLM compares the request path with each entry exactly (no route group
 * names, no patterns) and refuses everyone but proxy admins: the master key, a JWT with the admin scope,
 * keys of users whose `user_role` is `proxy_admin` and JWTs jwt_litellm_role_map makes one whose stored user is no
 * viewer (a viewer, a key with no user, a key a non-admin made for the user (delegation.ts), any other JWT are refused). LiteLLM applies it only with an Enterprise license; Tollgate always does.
 */
import compiled from 'tollgate-config';
import { createMiddleware } from 'hono/factory';
import { runtimeConfig } from '../config/runtime.ts';
import { openDatabase } from '../db/client.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { gatewayState } from '../state.ts';
import { log } from '../telemetry/log.ts';
import { proxyAdminCached } from '../a2a/admin-role-cache.ts';
import type { Caller } from './authenticate.ts';
import { isDelegated, keyAuthority } from './delegation.ts';
import { JWT_TOKEN_PREFIX } from './jwt-identity.ts';
import { isJwtProxyAdmin } from './jwt-stored-role.ts';
import { proxyAdminRouteRefusal } from './proxy-admin-refusal.ts';

/**
 * Whether config.yaml lists any admin-only route, read from the compiled config when the Worker loads: without
 * one the middleware is not registered at all, so no request pays for it.
 */
export const ADMIN_ONLY_CONFIGURED = (() => {
  const routes = (compiled.config as { general_settings?: { admin_only_routes?: unknown } } | undefined)?.general_settings?.admin_only_routes;
  return routes !== undefined && routes !== null && (!Array.isArray(routes) || routes.length > 0);
})();

/** True when `path` is one of the configured admin-only routes. */
export function isAdminOnlyRoute(routes: readonly string[] | undefined, path: string): boolean {
  return routes !== undefined && routes.includes(path);
}

/** LiteLLM's 403 for a caller that is not a proxy admin on an admin-only route. */
export function adminOnlyRouteRefusal(path: string): GatewayError {
  return new GatewayError(`user not allowed to access this route. Route=${path} is an admin only route`, { status: 403, type: 'auth_error' });
}

/** The configured list; none when the config cannot load (the route then answers with that error itself). */
function configuredRoutes(env: GatewayEnv): readonly string[] | undefined {
  try {
    return runtimeConfig(env as unknown as Record<string, unknown>).config.general_settings.admin_only_routes;
  } catch {
    return undefined;
  }
}

/**
 * Whether the virtual key acts as a user with the `proxy_admin` role (not delegated): one query, made only on an
 * admin-only route, and through cachedProxyAdmin for an A2A task not the key's own (a2a/task-owners.ts) and on
 * /prompts/test (routes/prompt-test.ts).
 */
export async function isProxyAdminKey(env: GatewayEnv, caller: Extract<Caller, { kind: 'key' }>): Promise<boolean> {
  // A JWT is a proxy admin by its scope only, which made it the master key already (authenticate.ts): one mapped to
  // a key (viaJwt) is not one through that key's user, whatever its role (as in admin-worker/lib/auth.ts).
  // A role the operator's jwt_litellm_role_map gives the token (jwt-role-map.ts) is its role, its stored user's viewer
  // role tightening it, as on the admin API (jwt-stored-role.ts): one query, for a proxy_admin token naming a user.
  if (caller.userRole) {
    let database: ReturnType<typeof openDatabase> | undefined;
    try {
      return await isJwtProxyAdmin(() => (database ??= openDatabase(env)).pool, caller.userRole, caller.policy.userId);
    } finally {
      await database?.close();
    }
  }
  if (!caller.policy.userId || caller.token.startsWith(JWT_TOKEN_PREFIX) || caller.viaJwt) return false;
  const database = openDatabase(env);
  try {
    // The same one query as the admin API's: a deleted key's row, or a key delegated to a user who is a proxy admin
    // (a team admin's key for them), is no proxy admin (delegation.ts).
    const key = await keyAuthority(database.pool, caller.policy.userId, caller.policy.token);
    return key.keyExists && key.userRole === 'proxy_admin' && !isDelegated(caller.policy.userId, key);
  } finally {
    await database.close();
  }
}

/**
 * isProxyAdminKey's answer, kept 30 s per key (a2a/admin-role-cache.ts), for the routes any key may knock on: A2A
 * tasks not the key's own and /prompts/test. Throws when the role cannot be read (and keeps nothing).
 */
export function cachedProxyAdmin(env: GatewayEnv, caller: Extract<Caller, { kind: 'key' }>): Promise<boolean> {
  // Everything the role read depends on: the key (its hash), its user, and a JWT's mapped role.
  const cacheKey = JSON.stringify([caller.token, caller.policy.userId ?? null, caller.userRole ?? null, caller.viaJwt === true]);
  return proxyAdminCached(cacheKey, () => isProxyAdminKey(env, caller));
}

/**
 * Passes the master key and a key of a `proxy_admin` user (cachedProxyAdmin); anyone else gets LiteLLM's 401
 * (proxyAdminRouteRefusal). A role that cannot be read is a 503, logged with `what`: never a pass.
 */
export async function requireProxyAdminKey(env: GatewayEnv, caller: Caller, path: string, what: string): Promise<void> {
  if (caller.kind === 'master') return;
  let admin: boolean;
  try {
    admin = await cachedProxyAdmin(env, caller);
  } catch (err) {
    log.error(`${what}: proxy admin role unreadable:`, err instanceof Error ? err.message : String(err));
    throw new GatewayError('The proxy admin role could not be read; retry shortly', { status: 503, type: 'service_unavailable', retryable: true, headers: { 'retry-after': '1' } });
  }
  if (!admin) throw proxyAdminRouteRefusal(path);
}

/**
 * The gateway's check, before its routes (`/v1/fine_tuning/jobs`, `/v1/files`, ...): any other path
 * costs a lookup in the configured list and nothing more. On a listed path the caller is authenticated
 * (the route does so again) and a virtual key's user role read from Postgres. The admin API checks its
 * own routes (admin-worker/lib/auth.ts), with the role it reads anyway.
 *
 * @example
 * app.use('*', adminOnlyRoutes);
 */
export const adminOnlyRoutes = createMiddleware<{ Bindings: GatewayEnv }>(async function adminOnlyRoutes(c, next) {
  if (!isAdminOnlyRoute(configuredRoutes(c.env), c.req.path)) return next();
  const caller = await authenticateRoute(c, await gatewayState(c.env));
  if (caller.kind !== 'master' && !(await isProxyAdminKey(c.env, caller))) throw adminOnlyRouteRefusal(c.req.path);
  return next();
});
