import { createMiddleware } from 'hono/factory';
import type { Caller } from '../../worker/auth/authenticate.ts';
import { authenticateRoute } from '../../worker/limits/key-store.ts';
import { JWT_TOKEN_PREFIX } from '../../worker/auth/jwt-identity.ts';
import { adminOnlyRouteRefusal, isAdminOnlyRoute } from '../../worker/auth/admin-only-routes.ts';
import { isPublicCaller } from '../../worker/auth/public-routes.ts';
import { openDatabase, type Database } from '../../worker/db/client.ts';
import { measurePostgres } from '../../worker/db/measured.ts';
import { scheduleFlush } from '../../worker/telemetry/metrics/buffer.ts';
import { serviceMetricsEnabled } from '../../worker/telemetry/metrics/services.ts';
import { GatewayError } from '../../worker/errors.ts';
import { gatewayState } from '../../worker/state.ts';
import { setAuditLogging } from './audit.ts';
import type { AdminBindings, AdminContext, AdminRole } from './context.ts';

const ADMIN_ROLES: ReadonlySet<string> = new Set(['proxy_admin']);

/**
 * Authenticates every admin request (master key or virtual key) and opens
 * the database on first use; the pool is closed after the response.
 */
export const adminAuth = createMiddleware<AdminBindings>(async function adminAuth(c, next) {
  const state = await gatewayState(c.env);
  setAuditLogging(state.config.litellm_settings.store_audit_logs !== false);
  let database: Database | undefined;
  // service_callback: ["prometheus_system"]: the request's queries are timed for /metrics (LiteLLM's litellm_postgres_*).
  const measured = serviceMetricsEnabled(state.config);
  c.set('db', () => (database ??= measuredDatabase(openDatabase(c.env), measured)));
  try {
    const caller = await authenticateRoute(c, state);
    c.set('caller', caller);
    c.set('role', caller.kind === 'master' ? 'proxy_admin' : await roleOf(c, caller));
    // general_settings.admin_only_routes: for proxy admins alone, whatever else the role may call.
    if (c.get('role') !== 'proxy_admin' && isAdminOnlyRoute(state.config.general_settings.admin_only_routes, c.req.path)) {
      throw adminOnlyRouteRefusal(c.req.path);
    }
    await next();
  } finally {
    if (database) c.executionCtx.waitUntil(database.close());
    if (database && measured) scheduleFlush(c.env, c.executionCtx);
  }
});

/** The database, its queries measured when `measured` (db/measured.ts). */
function measuredDatabase(database: Database, measured: boolean): Database {
  if (measured) measurePostgres(database.pool);
  return database;
}

async function roleOf(c: AdminContext, caller: Caller): Promise<AdminRole> {
  // A request without a key on one of general_settings.public_routes: LiteLLM's view-only user, with no user row.
  if (isPublicCaller(caller)) return 'internal_user_viewer';
  // A JWT is a proxy admin by its scope only (worker/auth/jwt-identity.ts), whatever role its user (or its mapped key's) has here.
  if (caller.kind !== 'key' || !caller.policy.userId || caller.token.startsWith(JWT_TOKEN_PREFIX) || caller.viaJwt) return 'internal_user';
  const { rows } = await c.get('db')().pool.query<{ user_role: string | null }>(
    'SELECT user_role FROM "LiteLLM_UserTable" WHERE user_id = $1', [caller.policy.userId]);
  const role = rows[0]?.user_role;
  return (role && ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'team', 'customer', 'org_admin'].includes(role)
    ? role : 'internal_user') as AdminRole;
}

/** True for the master key and for keys of users with the proxy_admin role. */
export function isProxyAdmin(c: AdminContext): boolean {
  return ADMIN_ROLES.has(c.get('role'));
}

/** Refuses anyone but a proxy admin, in LiteLLM's words. */
export function requireProxyAdmin(c: AdminContext, what: string): void {
  if (!isProxyAdmin(c)) {
    throw new GatewayError(`Only proxy admins can ${what}. Your role=${c.get('role')}`, { status: 403, type: 'auth_error' });
  }
}

/** The user behind the calling virtual key, if any (the master key has none). */
export function callerUserId(c: AdminContext): string | null {
  const caller = c.get('caller');
  return caller.kind === 'key' ? caller.policy.userId : null;
}

/** Proxy admins and proxy admin viewers read every row (keys, spend, reports). */
export function isAdminReader(c: AdminContext): boolean {
  return isProxyAdmin(c) || c.get('role') === 'proxy_admin_viewer';
}

/** Refuses anyone but an admin reader (isAdminReader). */
export function requireAdminReader(c: AdminContext, what: string): void {
  if (!isAdminReader(c)) {
    throw new GatewayError(`Only proxy admins can ${what}. Your role=${c.get('role')}`, { status: 403, type: 'auth_error' });
  }
}
