import { Hono } from 'hono';
import { authenticate } from '../worker/auth/authenticate.ts';
import { gatewayState } from '../worker/state.ts';
import { errorResponse, GatewayError } from '../worker/errors.ts';
import type { AdminEnv } from './env.ts';

export const app = new Hono<{ Bindings: AdminEnv }>();

// Every admin route needs a caller; the management API itself lands with its own issue.
app.use('*', async (c, next) => {
  const { masterKeyHash } = await gatewayState(c.env);
  await authenticate(c.req.raw.headers, { masterKeyHash });
  await next();
});

app.all('*', (c) => {
  throw new GatewayError(`Route not found: ${c.req.method} ${c.req.path}`, { status: 404, type: 'not_found_error' });
});

app.onError((err) => errorResponse(err));
