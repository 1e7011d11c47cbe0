import { createMiddleware } from 'hono/factory';
import type { Caller } from '../../worker/auth/authenticate.ts';
import { authenticateRoute } from '../../worker/limits/key-store.ts';
import { JWT_TOKEN_PREFIX } from '../../worker/auth/jwt-identity.ts';
import { isDelegated, keyAuthority } from '../../worker/auth/delegation.ts';
import { jwtRole } from '../../worker/auth/jwt-stored-role.ts';
import { adminOnlyRouteRefusal, isAdminOnlyRoute } from '../../worker/auth/admin-only-routes.ts';
import { isPublicCaller } from '../../worker/auth/public-routes.ts';
import { openDatabase, type Database } from '../../worker/db/client.ts';
import { measurePostgres } from '../../worker/db/measured.ts';
import { scheduleFlush } from '../../worker/telemetry/metrics/buffer.ts';
import { serviceMetricsEnabled } from '../../worker/telemetry/metrics/services.ts';
import { GatewayError } from '../../worker/errors.ts';
import { gatewayState } from '../../worker/state.ts';
import { setAuditLogging } from './audit.ts';
import { viewerWriteRefusal } from './viewer-writes.ts';
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
    // Viewer roles change nothing: every write route refuses them (lib/viewer-writes.ts). A keyless caller on a
    // public route is left to the route, as LiteLLM skips its role checks there (an unserved method stays a 404).
    const viewerRefusal = viewerWriteRefusal(c.get('role'), c.req.method, c.req.path, caller.kind === 'key' ? caller.policy.userId : null);
    if (viewerRefusal && !isPublicCaller(caller)) throw viewerRefusal;
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
  if (caller.kind !== 'key') return 'internal_user';
  // A JWT's role is the one the operator's jwt_litellm_role_map gives its roles, under sync_user_role_and_teams the synced user's (worker/auth/jwt-role-map.ts), else
  // internal_user (admin only by its scope, which made it the master key); its stored user's role only tightens it (jwtRole). A token
  // naming no user, or mapped to a virtual key (viaJwt: LLM routes only), reads no row.
  if (!caller.policy.userId || caller.viaJwt) return caller.userRole ?? 'internal_user';
  // One query: the user's role, and who made the key and that creator's role now (worker/auth/delegation.ts).
  const row = await keyAuthority(c.get('db')().pool, caller.policy.userId, caller.policy.token);
  const role = row.userRole;
  const stored = (role && ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'team', 'customer', 'org_admin'].includes(role)
    ? role : 'internal_user') as AdminRole;
  // Its stored user's viewer role tightens a JWT's: the one rule the gateway's admin_only_routes applies too.
  if (caller.token.startsWith(JWT_TOKEN_PREFIX)) return jwtRole(caller.userRole ?? 'internal_user', stored);
  // Its row gone (a /key/delete committed, the limiter not yet reloaded): the key no longer exists. Fail closed,
  // rather than read a missing created_by as a legacy key acting as its user.
  if (!row.keyExists) throw deletedKey();
  if (!isDelegated(caller.policy.userId, row)) return stored;
  c.set('delegatedBy', row.createdBy as string);
  return DELEGATED_ROLE[stored] ?? stored;
}

/** LiteLLM's 401 for a key not in the database, for one whose row was deleted after the limiter admitted it. */
function deletedKey(): GatewayError {
  return new GatewayError('Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`',
    { status: 401, type: 'token_not_found_in_db', param: 'key' });
}

/** What a delegated key's user's role becomes for it: never a proxy admin's (nor its viewer's) powers. */
const DELEGATED_ROLE: Partial<Record<AdminRole, AdminRole>> = { proxy_admin: 'internal_user', proxy_admin_viewer: 'internal_user_viewer' };

/**
 * A delegated key (worker/auth/delegation.ts) is in the admin API no user (callerUserId null): it reads its own
 * rows only and has none of the user's reads or admin powers.
 */
export { isDelegated } from '../../worker/auth/delegation.ts';

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
  // A delegated key (isDelegated) is no user here: its reads fall back to its own key.
  return caller.kind === 'key' && c.get('delegatedBy') === undefined ? caller.policy.userId : null;
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
