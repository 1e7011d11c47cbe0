/**
 * `general_settings.public_routes` (LiteLLM's `route_in_additonal_public_routes`): routes a request may call
 * without a key. LiteLLM opens any route listed (exact paths, `prefix*` patterns) and answers it as a view-only
 * user with no key, whatever key the request carries. Tollgate opens only read-only routes that answer about
 * models and prices: a route that makes a model call (or probes one, or shows what one would send) stays keyed,
 * since every call must be attributed to a key and held to its limits, and a route that shows keys, spend or
 * secrets, or writes anything, stays keyed too. Config validation refuses any other entry (publicRouteRefusal).
 */
import type { Caller } from './authenticate.ts';
import type { KeyPolicy } from './key-policy.ts';
import { makesModelCall } from './routes.ts';

/** LiteLLM's name for its own public routes (`LiteLLMRoutes.public_routes`); those Tollgate serves need no key already. */
export const LITELLM_PUBLIC_ROUTES = 'LiteLLMRoutes.public_routes';

/** The routes that may be public: each reads the model list or prices and nothing of any key, user or team. */
export const PUBLIC_ROUTE_CANDIDATES: ReadonlySet<string> = new Set([
  // The gateway's.
  '/v1/models', '/models', '/utils/token_counter', '/utils/supported_openai_params', '/cost/estimate',
  // The admin API's.
  '/model/info', '/v1/model/info', '/v2/model/info', '/model_group/info', '/spend/calculate',
]);

/** Routes that take no key whatever the config says: listing them changes nothing. */
const OPEN_ALREADY: ReadonlySet<string> = new Set([
  LITELLM_PUBLIC_ROUTES, '/health/liveliness', '/health/liveness', '/health/readiness', '/metrics', '/openapi.json', '/docs',
  '/public/model_hub', '/public/model_hub/info', '/', '/routes', '/test',
]);

/**
 * Why `entry` may not be one of `public_routes`, or undefined when it may. The config is refused with this
 * message, so a route that was meant to be opened is never silently left keyed (or opened).
 */
export function publicRouteRefusal(entry: string): string | undefined {
  if (PUBLIC_ROUTE_CANDIDATES.has(entry) || OPEN_ALREADY.has(entry)) return undefined;
  if (entry.includes('*')) {
    return `${entry}: patterns are not taken here (a pattern could open routes that make model calls); list each route`;
  }
  if (entry === '/health' || entry.startsWith('/health/')) {
    return `${entry} cannot be public: its health checks make real, paid calls to the deployments`;
  }
  if (makesModelCall(entry)) {
    return `${entry} cannot be public: it makes model calls, and every call must be made with a key, to be attributed and held to the key's limits`;
  }
  return `${entry} cannot be public: only routes that show no keys, spend or secrets and write nothing may be (${[...PUBLIC_ROUTE_CANDIDATES].join(', ')})`;
}

/** The routes of `public_routes` that a request without a key may call (entries publicRouteRefusal takes, not open already). */
export function publicRouteSet(entries: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((entries ?? []).filter((entry) => PUBLIC_ROUTE_CANDIDATES.has(entry)));
}

let isolateRoutes: ReadonlySet<string> = new Set();

/**
 * Sets this isolate's public routes, from its validated config (state.ts, once per isolate). Kept here
 * rather than passed along because every route's authentication reads it (authenticate.ts).
 */
export function usePublicRoutes(routes: ReadonlySet<string>): void {
  isolateRoutes = routes;
}

/** True when a request without a key may call `path`: asked only when no key came. */
export function isPublicRoute(path: string): boolean {
  return isolateRoutes.has(path);
}

/** The token a public caller is known by: no key's hash (64 hex digits) nor a JWT subject's (`jwt:`) can be it. */
export const PUBLIC_CALLER_TOKEN = 'public-route';

/** True for a request without a key on a public route (authenticate.ts gives it publicCallerPolicy). */
export function isPublicCaller(caller: Caller): boolean {
  return caller.kind === 'key' && caller.token === PUBLIC_CALLER_TOKEN;
}

/**
 * The policy a request without a key calls public route `path` with: LiteLLM's view-only user with no key. It
 * may see every model (`[]`), as a key with no model list does, and call that route alone; it has no user, team
 * or organization, so it reads no one's keys, spend or settings, and has no admin role.
 */
export function publicCallerPolicy(path: string): KeyPolicy {
  return {
    token: PUBLIC_CALLER_TOKEN, keyName: null, keyAlias: null, userId: null, organizationId: null, models: [], blocked: false,
    expires: null, spend: 0, maxBudget: null, softBudget: null, tpmLimit: null, rpmLimit: null, metadata: {}, tags: [], allowedCacheControls: [],
    allowedRoutes: [path], aliases: {}, userModels: [], orgModels: [], team: null,
  };
}
