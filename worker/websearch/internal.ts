/**
 * The gateway's own requests of a web search tool loop (intercept.ts): each model call and search it sends back
 * through the routes, marked with the path of the client's request it serves. Its own module so the routes and
 * middleware that hold a request to route permissions can ask without loading the loop.
 */

const INTERNAL = new WeakMap<Request, string>();

/** Marks a request as the loop's own, serving a client's request to `path` (whose route permissions were checked). */
export function markInternal(request: Request, path: string): void {
  INTERNAL.set(request, path);
}

/** Whether a request is the loop's own: it goes to its route as it is, never intercepted again. */
export const isInternal = (request: Request): boolean => INTERNAL.has(request);

/**
 * The path a request's route permissions (a key's `allowed_routes`, a JWT's role and scope routes) are held to:
 * for the loop's own search, the client's route, as LiteLLM runs the searches of its interception inside the
 * client's call, checking only the key's search tool permission (`object_permission.search_tools`), its limits
 * and budgets. A request of the client's is held to its own path.
 */
export const permittedPath = (request: Request, path: string): string => INTERNAL.get(request) ?? path;
