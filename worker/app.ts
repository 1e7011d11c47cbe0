import { Hono } from 'hono';
import type { GatewayEnv } from './env.ts';
import { errorResponse, GatewayError } from './errors.ts';
import { chatCompletions } from './routes/chat.ts';
import { liveliness, readiness } from './routes/health.ts';

/** Path prefixes the admin Worker serves; the gateway forwards them over the service binding. */
export const ADMIN_PREFIXES = [
  '/key/', '/team/', '/user/', '/organization/', '/customer/', '/end_user/', '/budget/', '/model/',
  '/v1/model/', '/v2/model/', '/model_group/', '/spend/', '/global/', '/audit', '/cache/',
];

export function isAdminPath(path: string): boolean {
  return ADMIN_PREFIXES.some((p) => path.startsWith(p) || path === p.replace(/\/$/, ''));
}

export const app = new Hono<{ Bindings: GatewayEnv }>();

app.get('/health/liveliness', liveliness);
app.get('/health/liveness', liveliness);
app.get('/health/readiness', readiness);

app.post('/v1/chat/completions', chatCompletions);
app.post('/chat/completions', chatCompletions);

app.all('*', async (c) => {
  if (isAdminPath(c.req.path) && c.env.ADMIN) return c.env.ADMIN.fetch(c.req.raw);
  throw new GatewayError(`Route not found: ${c.req.method} ${c.req.path}`, { status: 404, type: 'not_found_error' });
});

app.onError((err) => errorResponse(err));
