/**
 * LiteLLM's small public routes (`LiteLLMRoutes.public_routes`): `GET /routes` (every route the proxy
 * serves), `GET /test` (its deprecated ping) and `GET /` (LiteLLM serves its API docs there). They show
 * routes only, never keys, spend or settings, so they take no key, as in LiteLLM.
 */
import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { log } from '../telemetry/log.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** One entry of `/routes`, LiteLLM's shape (`methods` sorted; `name` the handler's, or the admin route's summary). */
export interface RouteEntry { path: string; methods: string[]; name: string }

/** What Hono's `app.routes` holds per registration. */
interface RegisteredRoute { path: string; method: string; handler: unknown }

/** `app.all(...)` routes (pass-through prefixes) take these. */
const ALL_METHODS = ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'];
const ADMIN_LIST_TIMEOUT_MS = 5000;

/** Only complete lists are kept (the admin Worker answered): the routes do not change within an isolate. */
let cached: RouteEntry[] | undefined;

/** The gateway's own routes: middleware (`*`) and the test-only `/__tollgate/` hooks left out. */
export function gatewayRoutes(registered: readonly RegisteredRoute[]): RouteEntry[] {
  const byPath = new Map<string, RouteEntry>();
  for (const route of registered) {
    if (route.path === '*' || route.path === '/*' || route.path.startsWith('/__tollgate/')) continue;
    const entry = byPath.get(route.path) ?? { path: route.path, methods: [], name: (typeof route.handler === 'function' && route.handler.name) || route.path };
    for (const method of route.method === 'ALL' ? ALL_METHODS : [route.method]) if (!entry.methods.includes(method)) entry.methods.push(method);
    byPath.set(route.path, entry);
  }
  return [...byPath.values()].map((e) => ({ ...e, methods: e.methods.sort() }));
}

/** The admin Worker's routes, from the OpenAPI document it serves (path parameters as `:name`, as the gateway's are written). */
async function adminRoutes(c: Ctx): Promise<RouteEntry[] | undefined> {
  if (!c.env.ADMIN) return [];
  try {
    const res = await c.env.ADMIN.fetch(new Request(new URL('/openapi.json', c.req.url), { signal: AbortSignal.timeout(ADMIN_LIST_TIMEOUT_MS) }));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const doc = (await res.json()) as { paths?: Record<string, Record<string, { summary?: string }>> };
    return Object.entries(doc.paths ?? {}).map(([path, ops]) => ({
      path: path.replace(/\{(\w+)\}/g, ':$1'),
      methods: Object.keys(ops).map((m) => m.toUpperCase()).sort(),
      name: Object.values(ops)[0]?.summary ?? path,
    }));
  } catch (err) {
    log.warn('/routes: the admin Worker\'s routes could not be listed:', err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

/** `GET /routes`: `{routes: [{path, methods, name}]}`, the gateway's routes and then the admin API's. */
export function routeList(registered: () => readonly RegisteredRoute[]) {
  return async function routes(c: Ctx) {
    if (cached) return c.json({ routes: cached });
    const own = gatewayRoutes(registered());
    const admin = await adminRoutes(c);
    const seen = new Set(own.map((r) => r.path));
    const all = [...own, ...(admin ?? []).filter((r) => !seen.has(r.path))];
    if (admin) cached = all;
    return c.json({ routes: all });
  };
}

/** `GET /test`: LiteLLM's deprecated ping (use /health/liveliness), answering the path it was called on. */
export function testRoute(c: Ctx) {
  return c.json({ route: c.req.path });
}

/** `GET /`: LiteLLM serves its API docs at the root; Tollgate's are at /docs (the admin Worker's). */
export function home(c: Ctx) {
  return c.redirect('/docs', 302);
}
