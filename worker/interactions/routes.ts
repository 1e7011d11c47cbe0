import type { Context, Hono } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { createInteraction } from './create.ts';
import { storedInteraction } from './stored.ts';

/**
 * Google's Interactions API as LiteLLM serves it (its google_routes), under `/v1beta` (where Google's SDKs
 * call it, `GOOGLE_GEMINI_BASE_URL` pointed at the gateway) and bare: create, read, delete and cancel.
 */
export function interactionRoutes(app: Hono<{ Bindings: GatewayEnv }>): void {
  for (const prefix of ['/v1beta', '']) {
    app.post(`${prefix}/interactions`, createInteraction);
    app.get(`${prefix}/interactions/:id`, storedInteraction('GET', ''));
    app.delete(`${prefix}/interactions/:id`, storedInteraction('DELETE', ''));
    app.post(`${prefix}/interactions/:id/cancel`, cancel);
    // Google's custom-method form, `{id}:cancel`, as LiteLLM's own client sends it.
    app.post(`${prefix}/interactions/:id`, (c) => {
      if (!c.req.param('id').endsWith(':cancel')) throw new GatewayError(`Route not found: POST ${c.req.path.slice(0, 200)}`, { status: 404, type: 'not_found_error' });
      return cancel(c);
    });
  }
}

const cancel: (c: Context<{ Bindings: GatewayEnv }>) => Promise<Response> = storedInteraction('POST', '/cancel');
