import type { Context } from 'hono';
import { z } from 'zod';
import type { GatewayEnv } from '../env.ts';
import { errorResponse } from '../errors.ts';
import { isPublicCaller } from '../auth/public-routes.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { aliasOf, authorizeCall } from '../proxy/call-access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { promptText } from '../openai/request-schemas.ts';
import { estimateTokens } from '../providers/openai-compatible/usage.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** LiteLLM's TokenCountRequest: a model and the messages (or a prompt) to count. */
const tokenCounterSchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.record(z.string(), z.unknown())).optional(),
  prompt: z.union([z.string(), z.array(z.string())]).optional(),
}).refine((b) => b.messages !== undefined || b.prompt !== undefined, { message: 'messages or prompt is required', path: ['messages'] });

/**
 * LiteLLM's `POST /utils/token_counter`: `{total_tokens, request_model,
 * model_used, tokenizer_type}` for a model group the key may call. Tollgate
 * has no model tokenizers: the count is its own estimate (four characters of
 * the messages' text a token), the one it reserves budgets with, and
 * `tokenizer_type` says so (`tollgate_estimate`). `model_used` is the
 * deployment's model, except for a request without a key (general_settings.public_routes),
 * which gets the model group's name: the model can carry a Bedrock ARN with
 * the AWS account id, a Vertex endpoint path or a fine-tune id.
 */
export async function tokenCounter(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const body = await readJsonBody(c.req.raw, tokenCounterSchema, bodyLimit(state.config));
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: body.model });
    // Checked as a call of that model would be: a key's or team's alias counts as the group it names.
    const aliased = aliasOf(caller, body.model);
    const deployment = authorizeCall({
      caller, requested: body.model, aliased, picked: resolveGroup(state.config, catalog, aliased ?? body.model).deployments[0],
      catalog, path: c.req.path, body,
    });
    return Response.json({
      total_tokens: estimateTokens(promptText(body).length),
      request_model: body.model,
      model_used: isPublicCaller(caller) ? deployment.group : deployment.model,
      tokenizer_type: 'tollgate_estimate',
    });
  } catch (err) {
    return errorResponse(err);
  }
}
