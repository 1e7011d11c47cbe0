import { GatewayError } from '../../worker/errors.ts';

/**
 * LiteLLM's read-only roles (`LitellmUserRoles.PROXY_ADMIN_VIEW_ONLY`, `INTERNAL_USER_VIEW_ONLY`): they read
 * what their role reads and change nothing. (Keyless callers on `general_settings.public_routes`, viewers
 * by role too, are left to the route: lib/auth.ts.)
 */
const VIEWER_ROLES: ReadonlySet<string> = new Set(['proxy_admin_viewer', 'internal_user_viewer']);

/** Methods that change nothing (LiteLLM's `RouteChecks._SAFE_HTTP_METHODS`). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The admin API's POST routes that only read, as LiteLLM lets a viewer call them (a key, a budget or a tag
 * looked up by a body, a cost worked out, the end users' spend, the calling key's own logging health).
 * Every other POST, PUT, PATCH and DELETE writes.
 */
const READ_ONLY_POSTS: ReadonlySet<string> = new Set([
  '/v2/key/info',
  '/key/health',
  '/budget/info',
  '/tag/info',
  '/spend/calculate',
  '/global/spend/end_users',
]);

/** The routes that take a key in their path. */
const KEY_IN_PATH = /^\/key\/[^/]+\/(regenerate|reset_spend)$/;

/** How much of the requested path a refusal echoes, as the 404 handler cuts it (app.ts). */
const ROUTE_SHOWN = 200;

/**
 * LiteLLM's `RouteChecks._mask_user_id`, so a refusal does not spell out the caller's user id: `***` for four
 * characters or fewer, stars for eight or fewer, else the first six, stars, and the last two.
 */
export function maskUserId(userId: string): string {
  if (userId.length <= 4) return '***';
  if (userId.length <= 8) return '*'.repeat(userId.length);
  return `${userId.slice(0, 6)}${'*'.repeat(userId.length - 8)}${userId.slice(-2)}`;
}

/**
 * The refusal when a viewer role calls a route that writes: one rule by method and path for every route, present and
 * future, so no write route can forget to refuse a viewer. The words and status are LiteLLM's for each role:
 * `_check_proxy_admin_viewer_access`'s 403 for `proxy_admin_viewer`; for `internal_user_viewer`,
 * `_raise_admin_only_route_exception` as `user_api_key_auth` answers it (a 401 `Authentication Error, ...` naming the
 * caller's user id masked, `unknown` without one). For any other role it is a single set lookup, and the gateway
 * Worker (model calls) never runs it.
 */
export function viewerWriteRefusal(role: string, method: string, path: string, userId: string | null): GatewayError | undefined {
  if (!VIEWER_ROLES.has(role) || SAFE_METHODS.has(method) || (method === 'POST' && READ_ONLY_POSTS.has(path))) return undefined;
  // A key named in the path (`/key/sk-.../regenerate`) is a secret: the message names the route, not the key.
  const route = path.replace(KEY_IN_PATH, '/key/{key}/$1').slice(0, ROUTE_SHOWN);
  if (role === 'proxy_admin_viewer') {
    return new GatewayError(`user not allowed to access this route, role= ${role}. Trying to access: ${route}`, { status: 403, type: 'auth_error' });
  }
  return new GatewayError(
    `Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${route}. Your role=${role}. Your user_id=${maskUserId(userId ?? 'unknown')}`,
    { status: 401, type: 'auth_error', param: 'None' },
  );
}
