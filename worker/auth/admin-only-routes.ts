/**
 * `general_settings.admin_only_routes` (LiteLLM's `RouteChecks.custom_admin_only_route_check`): routes
 * only proxy admins may call. LiteLLM compares the request path with each entry exactly (no route group
 * names, no patterns) and refuses everyone but proxy admins: the master key, a JWT with the admin scope,
 * and keys of users whose `user_role` is `proxy_admin` (a viewer, a key with no user, any other JWT are
 * refused). LiteLLM applies it only with an Enterprise license; Tollgate always does.
 */
import compiled from 'tollgate-config';
import { createMiddleware } from 'hono/factory';
import { runtimeConfig } from '../config/runtime.ts';
import { openDatabase } from '../db/client.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { gatewayState } from '../state.ts';
import type { Caller } from './authenticate.ts';
import { JWT_TOKEN_PREFIX } from './jwt-identity.ts';

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

/** Whether the virtual key's user has the `proxy_admin` role: one query, made only on an admin-only route. */
async function isProxyAdminKey(env: GatewayEnv, caller: Extract<Caller, { kind: 'key' }>): Promise<boolean> {
  // A JWT is a proxy admin by its scope only, which made it the master key already (authenticate.ts): one mapped to
  // a key (viaJwt) is not one through that key's user, whatever its role (as in admin-worker/lib/auth.ts).
  if (!caller.policy.userId || caller.token.startsWith(JWT_TOKEN_PREFIX) || caller.viaJwt) return false;
  const database = openDatabase(env);
  try {
    const { rows } = await database.pool.query<{ user_role: string | null }>(
      'SELECT user_role FROM "LiteLLM_UserTable" WHERE user_id = $1', [caller.policy.userId]);
    return rows[0]?.user_role === 'proxy_admin';
  } finally {
    await database.close();
  }
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
