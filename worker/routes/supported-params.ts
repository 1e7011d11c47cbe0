import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { badRequest, errorResponse } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { supportedOpenAIParams } from '../providers/supported-params.ts';
import { gatewayState } from '../state.ts';
import { callableGroup } from './callable-group.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * LiteLLM's `GET /utils/supported_openai_params?model=<model group>`: `{supported_openai_params: [...]}`,
 * the OpenAI chat params the group's deployments serve, as Tollgate's adapters send or translate them
 * (providers/supported-params.ts), for a group the key may call.
 *
 * @example GET /utils/supported_openai_params?model=claude → {"supported_openai_params": ["max_completion_tokens", "max_tokens", ...]}
 */
export async function supportedParams(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const model = c.req.query('model');
    if (!model) throw badRequest('model is required: /utils/supported_openai_params?model=<model group>', 'model');
    const deployments = await callableGroup(c, state, caller, model);
    return Response.json({ supported_openai_params: supportedOpenAIParams(deployments) });
  } catch (err) {
    return errorResponse(err);
  }
}
