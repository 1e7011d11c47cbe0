import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { modesOf } from '../guardrails/schema.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `GET /guardrails/list` (LiteLLM's, for any key): the configured guardrails a call may name, with their
 * service, modes, `default_on` and `guardrail_info`; never their credentials or endpoints.
 */
export async function guardrailsList(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  await authenticateRoute(c, state);
  const guardrails = (state.config.guardrails ?? []).map((g) => ({
    guardrail_name: g.guardrail_name,
    litellm_params: { guardrail: g.litellm_params.guardrail, mode: modesOf(g).length === 1 ? modesOf(g)[0] : modesOf(g), default_on: g.litellm_params.default_on === true },
    guardrail_info: g.guardrail_info ?? null,
  }));
  return Response.json({ guardrails });
}
