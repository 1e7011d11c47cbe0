import type { Context } from 'hono';
import { requireProxyAdminKey } from '../auth/admin-only-routes.ts';
import type { GatewayEnv } from '../env.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { chatRequestSchema } from '../openai/request-schemas.ts';
import { testPromptBody, testPromptSchema } from '../prompts/test-prompt.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `POST /prompts/test`: LiteLLM's prompt playground. The dotprompt the request carries is rendered into a chat
 * (prompts/test-prompt.ts) that runs as any chat of the caller (its key's model access to the front matter's
 * model, limits, budgets, guardrails, spend log as `acompletion`, callbacks), answered as an SSE stream. The
 * key is checked before the body is read: bad input is then a 400 with nothing called or billed.
 */
export async function testPrompt(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  // Only proxy admins (the master key, an admin JWT, keys of `proxy_admin` users): the route is in none of LiteLLM's
  // route groups. LiteLLM also lets a key whose `allowed_routes` name it through, but there only admins set
  // `allowed_routes`; here team admins set them on the keys they make, so a listed route grants nothing.
  await requireProxyAdminKey(c.env, await authenticateRoute(c, state), c.req.path, '/prompts/test');
  const request = await readJsonBody(c.req.raw, testPromptSchema, bodyLimit(state.config));
  return handleModelCall(c, 'chat', chatRequestSchema, { body: testPromptBody(request) });
}
