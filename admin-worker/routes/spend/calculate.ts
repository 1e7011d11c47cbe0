import { Hono } from 'hono';
import { z } from 'zod';
import { computeCost } from '../../../worker/cost/cost.ts';
import { costOfCall } from '../../../worker/cost/deployment-cost.ts';
import { findPrice } from '../../../worker/cost/prices.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { currentCatalog } from '../../../worker/models/catalog.ts';
import { promptText } from '../../../worker/openai/request-schemas.ts';
import { estimatedUsage, estimateTokens, readOpenAIUsage } from '../../../worker/providers/openai-compatible/usage.ts';
import type { UsageReport } from '../../../worker/providers/types.ts';
import { resolveGroup } from '../../../worker/router/resolve-group.ts';
import { gatewayState } from '../../../worker/state.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { parseBody } from '../../lib/validation.ts';

/**
 * `POST /spend/calculate`, as in LiteLLM: what a call costs, from an answer's
 * usage (`completion_response`) or, before a call, from its `messages` (the
 * prompt alone, estimated at four characters a token where LiteLLM runs the
 * model's tokenizer). A model group's own prices (`input_cost_per_token`, ...)
 * come first, then the price table.
 */
export const spendCalculateRoutes = new Hono<AdminBindings>();

const calculateSchema = z.looseObject({
  model: z.string({ error: 'model must be a string' }).min(1).optional(),
  messages: z.array(z.looseObject({}), { error: 'messages must be a list of messages' }).optional(),
  completion_response: z.looseObject({
    model: z.string().optional(),
    usage: z.looseObject({}).nullable().optional(),
  }, { error: 'completion_response must be an object' }).optional(),
}).refine((b) => b.completion_response !== undefined || (b.model !== undefined && b.messages !== undefined), {
  error: 'send completion_response, or model and messages',
});

describeRoute({ method: 'post', path: '/spend/calculate', summary: 'The cost of a call: from completion_response (its model and usage), or from model and messages (the prompt, estimated)', tag: 'spend', body: calculateSchema });
spendCalculateRoutes.post('/spend/calculate', async (c) => {
  const body = await parseBody(c, calculateSchema);
  const model = body.model ?? body.completion_response?.model;
  if (!model) throw new GatewayError('completion_response has no model: send model too', { status: 400, type: 'bad_request_error', param: 'model' });
  const usage: UsageReport = body.completion_response
    ? readOpenAIUsage(body.completion_response.usage as never) ?? estimatedUsage(0, 0)
    : estimatedUsage(estimateTokens(promptText({ messages: body.messages }).length), 0);
  const state = await gatewayState(c.env);
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: model });
  const deployment = resolveGroup(state.config, catalog, model).deployments[0];
  if (deployment) return c.json({ cost: costOfCall(deployment, usage) });
  // Not a group here: the price table's row for the name (an answer names the provider's model, "gpt-4o-2024-08-06").
  const slash = model.indexOf('/');
  const price = findPrice(slash > 0 ? [model, model.slice(slash + 1)] : [model]);
  if (!price) throw new GatewayError(`No price known for model=${model.slice(0, 200)}: it is neither a model group here nor in the price table`, { status: 400, type: 'bad_request_error', param: 'model' });
  return c.json({ cost: computeCost(usage, price) });
});
