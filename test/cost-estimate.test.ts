import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { UTILS_ROUTES_CONFIG, utilsRoutesClient } from './support/utils-routes-stack.ts';

// LiteLLM's POST /cost/estimate: a model group's price for given token counts, from Tollgate's own prices,
// without calling a provider. Every upstream here is a closed port. supported_openai_params: utils-routes.test.ts.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: UTILS_ROUTES_CONFIG });
});
afterAll(async () => {
  await stack?.stop();
});

const { estimate, chat, errorOf } = utilsRoutesClient(() => stack);

describe('POST /cost/estimate', () => {
  it('estimates exactly what a call of the same token counts is billed in its spend-log row', async () => {
    const call = await chat({ model: 'mock-priced', messages: [{ role: 'user', content: 'word '.repeat(60) }] });
    expect(call.status).toBe(200);
    const row = await eventually(() => spendLogRow(stack.db.url, call.headers.get('x-litellm-call-id') ?? ''));
    const [input, output] = [Number(row.prompt_tokens), Number(row.completion_tokens)];
    expect(input).toBeGreaterThan(50);
    expect(output).toBeGreaterThan(0);
    expect(row.spend as number).toBeGreaterThan(0);

    const res = await estimate({ model: 'mock-priced', input_tokens: input, output_tokens: output });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, unknown>;
    expect(body.cost_per_request).toBe(row.spend);
    expect(body.cost_per_request).toBe(Number(call.headers.get('x-litellm-response-cost')));
    expect(body).toMatchObject({
      model: 'mock-priced', input_tokens: input, output_tokens: output, num_requests_per_day: null, num_requests_per_month: null,
      input_cost_per_token: 0.000001, output_cost_per_token: 0.000002, margin_cost_per_request: 0, daily_cost: null, monthly_cost: null,
      provider: 'mock',
    });
    expect(body.input_cost_per_request).toBeCloseTo(input * 0.000001, 12);
    expect(body.output_cost_per_request).toBeCloseTo(output * 0.000002, 12);
  });

  it('prices an Anthropic group from the bundled table, cache reads and writes at their own prices, per day and month', async () => {
    // claude-sonnet-4: $3 / $15 a million tokens, cache reads $0.30, cache writes $3.75 (LiteLLM's map).
    const res = await estimate({
      model: 'claude', input_tokens: 1000, cache_read_input_tokens: 800, cache_creation_input_tokens: 100, output_tokens: 500,
      num_requests_per_day: 100, num_requests_per_month: 3000,
    });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, number | string | null>;
    const input = 100 * 3e-6 + 800 * 3e-7 + 100 * 3.75e-6;
    const perRequest = input + 500 * 1.5e-5;
    expect(body).toMatchObject({
      model: 'claude', input_tokens: 1000, output_tokens: 500, cache_read_input_tokens: 800, cache_creation_input_tokens: 100,
      num_requests_per_day: 100, num_requests_per_month: 3000, provider: 'anthropic',
      input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, cache_read_input_token_cost: 3e-7, cache_creation_input_token_cost: 3.75e-6,
      margin_cost_per_request: 0, daily_margin_cost: 0, monthly_margin_cost: 0,
    });
    const close: [string, number][] = [
      ['cost_per_request', perRequest], ['input_cost_per_request', input], ['output_cost_per_request', 500 * 1.5e-5],
      ['cache_read_cost_per_request', 800 * 3e-7], ['cache_creation_cost_per_request', 100 * 3.75e-6],
      ['daily_cost', perRequest * 100], ['daily_input_cost', input * 100], ['daily_output_cost', 500 * 1.5e-5 * 100],
      ['monthly_cost', perRequest * 3000], ['monthly_cache_read_cost', 800 * 3e-7 * 3000],
    ];
    for (const [field, value] of close) expect(body[field], field).toBeCloseTo(value, 12);
  });

  it('prices a Bedrock group from the table, and a deployment\'s config price over the table\'s', async () => {
    const bedrock = await (await estimate({ model: 'bedrock-claude', input_tokens: 2000, output_tokens: 100 })).json() as Record<string, unknown>;
    expect(bedrock).toMatchObject({ provider: 'bedrock', input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5 });
    expect(bedrock.cost_per_request).toBeCloseTo(2000 * 3e-6 + 100 * 1.5e-5, 12);
    // model_info's input price replaces gpt-4o's $2.50; its output price stays the table's $10.
    const custom = await (await estimate({ model: 'gpt-4o-custom', input_tokens: 1000, output_tokens: 1000 })).json() as Record<string, unknown>;
    expect(custom).toMatchObject({ provider: 'openai', input_cost_per_token: 5e-6, output_cost_per_token: 1e-5 });
    expect(custom.cost_per_request).toBeCloseTo(1000 * 5e-6 + 1000 * 1e-5, 12);
  });

  it('prices 0 requests a day or month at 0, not null (LiteLLM\'s answer)', async () => {
    const res = await estimate({ model: 'claude', input_tokens: 1000, output_tokens: 500, num_requests_per_day: 0, num_requests_per_month: 0 });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      num_requests_per_day: 0, num_requests_per_month: 0, daily_cost: 0, daily_input_cost: 0, daily_output_cost: 0, daily_margin_cost: 0,
      daily_cache_read_cost: 0, daily_cache_creation_cost: 0, monthly_cost: 0, monthly_input_cost: 0, monthly_output_cost: 0,
    });
    expect(body.cost_per_request).toBeGreaterThan(0);
  });

  it('answers a key for the models it may call only, the master key for all', async () => {
    const narrow = await seedKey(stack.db.url, { models: ['mock-priced'] });
    expect((await estimate({ model: 'mock-priced', input_tokens: 10, output_tokens: 10 }, narrow)).status).toBe(200);
    const refused = await estimate({ model: 'claude', input_tokens: 10, output_tokens: 10 }, narrow);
    expect(refused.status).toBe(401);
    expect(await errorOf(refused)).toMatchObject({ type: 'key_model_access_denied', code: '401' });
    expect((await estimate({ model: 'claude', input_tokens: 10, output_tokens: 10 })).status).toBe(200);
  });

  it('refuses bad input with a 400 in the OpenAI envelope', async () => {
    const bad: [unknown, string][] = [
      [{ input_tokens: 10, output_tokens: 10 }, 'model'],
      [{ model: 'claude', output_tokens: 10 }, 'input_tokens'],
      [{ model: 'claude', input_tokens: -1, output_tokens: 10 }, 'input_tokens'],
      [{ model: 'claude', input_tokens: '100', output_tokens: 10 }, 'input_tokens'],
      [{ model: 'claude', input_tokens: 1.5, output_tokens: 10 }, 'input_tokens'],
      [{ model: 'claude', input_tokens: 10, output_tokens: 10, num_requests_per_day: -5 }, 'num_requests_per_day'],
      [{ model: 'claude', input_tokens: 10, output_tokens: 10, cache_read_input_tokens: 11 }, 'cache_read_input_tokens'],
      [[1, 2], ''],
    ];
    for (const [body, param] of bad) {
      const res = await estimate(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(res);
      expect(error, JSON.stringify(body)).toMatchObject({ type: 'bad_request_error', code: '400' });
      expect(error.message, JSON.stringify(body)).toContain(param);
    }
    const unknown = await estimate({ model: 'no-such-model', input_tokens: 1, output_tokens: 1 });
    expect(unknown.status).toBe(400);
    expect((await errorOf(unknown)).message).toContain('Invalid model name passed in model=no-such-model');
  });
});
