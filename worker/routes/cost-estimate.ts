import type { Context } from 'hono';
import { z } from 'zod';
import { costOfCall, deploymentPrice, deploymentTokenRates } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import type { UsageReport } from '../providers/types.ts';
import { gatewayState } from '../state.ts';
import { callableGroup } from './callable-group.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// Strict numbers: LiteLLM's pydantic would take "100" for 100, but a client sending text has a bug to hear about.
const count = (name: string) => z.number({ error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a number`) }).int(`${name} must be a whole number`).nonnegative(`${name} must not be negative`);

/** LiteLLM's CostEstimateRequest: token counts of one request, and optionally how many requests a day or month. */
const costEstimateSchema = z.object({
  model: z.string({ error: 'model is required' }).min(1, 'model is required'),
  input_tokens: count('input_tokens'),
  output_tokens: count('output_tokens'),
  // Counted within input_tokens, as LiteLLM's are.
  cache_read_input_tokens: count('cache_read_input_tokens').default(0),
  cache_creation_input_tokens: count('cache_creation_input_tokens').default(0),
  num_requests_per_day: count('num_requests_per_day').nullable().default(null),
  num_requests_per_month: count('num_requests_per_month').nullable().default(null),
}).refine((b) => b.cache_read_input_tokens + b.cache_creation_input_tokens <= b.input_tokens, {
  message: 'cache_read_input_tokens and cache_creation_input_tokens are part of input_tokens and cannot exceed it',
  path: ['cache_read_input_tokens'],
});
type CostEstimateRequest = z.output<typeof costEstimateSchema>;

/** One request's cost, split as LiteLLM's estimate splits it: cache lines are shares of the input cost. Tollgate adds no margin. */
interface CostLines {
  cost: number;
  input_cost: number;
  output_cost: number;
  margin_cost: number;
  cache_read_cost: number;
  cache_creation_cost: number;
}

const usage = (prompt: number, completion: number, cached = 0, created = 0): UsageReport =>
  ({ promptTokens: prompt, completionTokens: completion, cachedPromptTokens: cached, cacheCreationTokens: created, reported: true });

/** Each line priced by costOfCall, as the call's spend-log row is. */
function perRequest(d: DeploymentRef, r: CostEstimateRequest): CostLines {
  const { input_tokens: input, output_tokens: output, cache_read_input_tokens: read, cache_creation_input_tokens: created } = r;
  return {
    cost: costOfCall(d, usage(input, output, read, created)),
    input_cost: costOfCall(d, usage(input, 0, read, created)),
    output_cost: costOfCall(d, usage(0, output)),
    margin_cost: 0,
    cache_read_cost: costOfCall(d, usage(read, 0, read)),
    cache_creation_cost: costOfCall(d, usage(created, 0, 0, created)),
  };
}

// Rounded as computeCost rounds, so 100 requests of 3e-6 come out as 0.0003.
const PICO = 1e12;

/** LiteLLM's field names for a period's lines (`daily_cost`, `daily_input_cost`, ...), null without a request count (0 requests cost 0). */
function period(prefix: 'daily' | 'monthly', lines: CostLines, requests: number | null): Record<string, number | null> {
  return Object.fromEntries(Object.entries(lines).map(([line, value]) =>
    [`${prefix}_${line}`, requests === null ? null : Math.round(value * requests * PICO) / PICO]));
}

/**
 * LiteLLM's `POST /cost/estimate`: what requests of these token counts cost on a model group the key may
 * call, per request and (given `num_requests_per_day` / `_per_month`) per day and month, priced at the
 * group's first deployment exactly as a call there is billed (deployment-cost.ts: config.yaml's prices
 * over the bundled table). No provider is called and nothing is logged.
 *
 * @example POST /cost/estimate {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 500, "num_requests_per_day": 100}
 *   → {"cost_per_request": 0.0075, "daily_cost": 0.75, "monthly_cost": null, "input_cost_per_token": 2.5e-6, ...}
 */
export async function estimateCost(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const body = await readJsonBody(c.req.raw, costEstimateSchema, bodyLimit(state.config));
    const [deployment] = await callableGroup(c, state, caller, body.model);
    // callableGroup refuses a name that reaches no deployment.
    const d = deployment!;
    const lines = perRequest(d, body);
    const rates = deploymentTokenRates(d);
    const per = Object.fromEntries(Object.entries(lines).map(([line, value]) => [`${line}_per_request`, value]));
    return Response.json({
      model: body.model,
      input_tokens: body.input_tokens,
      output_tokens: body.output_tokens,
      cache_read_input_tokens: body.cache_read_input_tokens,
      cache_creation_input_tokens: body.cache_creation_input_tokens,
      num_requests_per_day: body.num_requests_per_day,
      num_requests_per_month: body.num_requests_per_month,
      ...per,
      ...period('daily', lines, body.num_requests_per_day),
      ...period('monthly', lines, body.num_requests_per_month),
      input_cost_per_token: rates.input,
      output_cost_per_token: rates.output,
      cache_read_input_token_cost: rates.cacheRead,
      cache_creation_input_token_cost: rates.cacheCreation,
      provider: deploymentPrice(d)?.provider ?? d.provider,
    });
  } catch (err) {
    return errorResponse(err);
  }
}
