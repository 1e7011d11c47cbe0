import compiled from 'tollgate-config';
import { createMiddleware } from 'hono/factory';
import type { GatewayEnv } from '../env.ts';
import { gatewayState } from '../state.ts';
import { permittedPath } from '../websearch/internal.ts';
import { presentedKey } from './credentials.ts';
import { checkJwtRoute } from './jwt-permissions.ts';
import { looksLikeJwt } from './jwt-verify.ts';

/**
 * The routes a JWT's role (`general_settings.role_permissions`, under `enforce_rbac`) or scopes (`scope_mappings`,
 * under `enforce_scope_based_access`) permit, held on every route of the gateway Worker before the route runs (before
 * a body is read or anything admitted) for a token in the usual headers. `authenticate` and `identify`
 * (authenticate.ts) hold them again with the path, for a token that comes elsewhere (`?key=`, a WebSocket
 * subprotocol, a pass-through endpoint's own header) and on the admin Worker.
 */

type General = { enable_jwt_auth?: unknown; role_permissions?: unknown; litellm_jwtauth?: { scope_mappings?: unknown; enforce_rbac?: unknown; enforce_scope_based_access?: unknown } };

/**
 * Whether config.yaml lists routes for a JWT role or scope, read from the compiled config when the Worker loads:
 * without any, the middleware is not registered at all, so no request pays for it.
 */
export const JWT_ROUTE_PERMITS_CONFIGURED = (() => {
  const general = (compiled.config as { general_settings?: General } | undefined)?.general_settings;
  if (!general?.enable_jwt_auth) return false;
  const listsRoutes = (list: unknown) => Array.isArray(list) && list.some((entry) => entry && typeof entry === 'object' && 'routes' in entry);
  // `os.environ/NAME` values are strings: only an explicit false leaves the setting off here (the runtime config decides).
  const on = (value: unknown) => value !== undefined && value !== null && value !== false && String(value).toLowerCase() !== 'false';
  const jwtauth = general.litellm_jwtauth;
  return (on(jwtauth?.enforce_rbac) && listsRoutes(general.role_permissions)) || (on(jwtauth?.enforce_scope_based_access) && listsRoutes(jwtauth?.scope_mappings));
})();

/** Routes no caller authenticates on (LiteLLM's public ones): a JWT sent there is not looked at. */
const OPEN = new Set(['/', '/routes', '/test', '/metrics', '/health/liveliness', '/health/liveness', '/health/readiness', '/public/model_hub', '/public/model_hub/info']);

/**
 * Refuses (403) a JWT whose role or scopes do not permit the route. A token that does not verify is left to the
 * route, which refuses it as it always has. Web search interception's own searches are held to the client's route
 * (websearch/internal.ts), as LiteLLM runs them inside the client's call.
 */
export const jwtRoutePermits = createMiddleware<{ Bindings: GatewayEnv }>(async function jwtRoutePermits(c, next) {
  const path = c.req.path;
  if (!OPEN.has(path)) {
    const state = await gatewayState(c.env);
    const key = state.jwt ? presentedKey(c.req.raw.headers, state.keyHeader) : undefined;
    if (state.jwt && key && looksLikeJwt(key)) {
      const caller = await state.jwt.caller(key).catch(() => undefined);
      if (caller?.permits) checkJwtRoute(caller.permits, permittedPath(c.req.raw, path));
    }
  }
  await next();
});
