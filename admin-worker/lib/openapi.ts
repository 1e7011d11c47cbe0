import { z } from 'zod';

interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
}

const routes: RouteDoc[] = [];

/** Registers a route's schemas for /openapi.json; call it next to the route, with the schemas the route validates with. */
export function describeRoute(doc: RouteDoc): void {
  routes.push(doc);
}

/** OpenAPI 3.1, from the zod schemas that validate the requests (so the two cannot drift). */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      security: [{ bearer: [] }],
      responses: { 200: { description: 'OK' }, 401: { description: 'Unauthorized' }, 403: { description: 'Forbidden' }, 422: { description: 'Validation error' } },
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } };
    if (r.query) {
      const schema = z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      op.parameters = Object.entries(schema.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s }));
    }
    (paths[r.path.replace(/:(\w+)/g, '{$1}')] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tollgate management API', version: '1', description: 'LiteLLM-compatible admin routes: keys, teams, users, customers, organizations, budgets, models, spend.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
