import type { Caller } from '../auth/authenticate.ts';
import { routeAllowed, routeListed } from '../auth/routes.ts';

/**
 * Whether `allowed_passthrough_routes` cover `path`: an entry is the route itself or a path prefix ending at a
 * segment (LiteLLM's `_route_matches_allowed_route`: `/bria` covers `/bria` and `/bria/v1/x`, not `/bria2`; a `*`
 * is a literal character, not a wildcard).
 */
export function passThroughRouteCovered(routes: readonly string[], path: string): boolean {
  return routes.some((route) => path === route || path.startsWith(`${route}/`));
}

/**
 * Whether a key may call a config pass-through endpoint at `path`, as far as its `allowed_passthrough_routes` say:
 * `yes` when it lists none or covers the path; `yes` too for a path among LiteLLM's LLM API routes, which LiteLLM
 * admits before it reads the list (a config endpoint there gets only requests no built-in route takes: another
 * method), and for one the key's own `allowed_routes` name by route or `prefix*` (not by group: a config
 * endpoint is in `llm_api_routes`), as LiteLLM falls through to them; `ask-role` otherwise: only a proxy admin's key
 * passes then (LiteLLM holds non-admins alone to it).
 */
export function passThroughGrant(caller: Caller, path: string): 'yes' | 'ask-role' {
  if (caller.kind !== 'key') return 'yes';
  const routes = caller.policy.allowedPassthroughRoutes;
  if (!routes || passThroughRouteCovered(routes, path) || routeAllowed(['llm_api_routes'], path)) return 'yes';
  return routeListed(caller.policy.allowedRoutes, path) ? 'yes' : 'ask-role';
}
