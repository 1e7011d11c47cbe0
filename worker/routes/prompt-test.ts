import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import { cachedProxyAdmin } from '../auth/admin-only-routes.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { chatRequestSchema } from '../openai/request-schemas.ts';
import { testPromptBody, testPromptSchema } from '../prompts/test-prompt.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { gatewayState } from '../state.ts';
import { log } from '../telemetry/log.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `POST /prompts/test`: LiteLLM's prompt playground. The dotprompt the request carries is rendered into a chat
 * (prompts/test-prompt.ts) that runs as any chat of the caller (its key's model access to the front matter's
 * model, limits, budgets, guardrails, spend log as `acompletion`, callbacks), answered as an SSE stream. The
 * key is checked before the body is read: bad input is then a 400 with nothing called or billed.
 */
export async function testPrompt(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  await confirmPromptTester(c.env, await authenticateRoute(c, state), c.req.path);
  const request = await readJsonBody(c.req.raw, testPromptSchema, bodyLimit(state.config));
  return handleModelCall(c, 'chat', chatRequestSchema, { body: testPromptBody(request) });
}

/**
 * Only proxy admins (the master key, an admin JWT, keys of `proxy_admin` users) may call it: the route is in none
 * of LiteLLM's route groups (`llm_api_routes` and the rest). LiteLLM also lets a key whose `allowed_routes` name it
 * through, but there only admins set `allowed_routes`; here team admins set them on the keys they make, so a
 * listed route grants nothing (authenticate still holds a key to its list). The role is read once per key per
 * 30 s (cachedProxyAdmin, shared with A2A), a 503 when it cannot be; anyone else gets LiteLLM's 401.
 */
async function confirmPromptTester(env: GatewayEnv, caller: Caller, path: string): Promise<void> {
  if (caller.kind === 'master') return;
  let admin: boolean;
  try {
    admin = await cachedProxyAdmin(env, caller);
  } catch (err) {
    log.error('/prompts/test: proxy admin role unreadable:', err instanceof Error ? err.message : String(err));
    throw new GatewayError('The proxy admin role could not be read; retry shortly', { status: 503, type: 'service_unavailable', retryable: true, headers: { 'retry-after': '1' } });
  }
  if (admin) return;
  throw new GatewayError(`Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${path}`, {
    status: 401, type: 'auth_error', param: 'None',
  });
}
