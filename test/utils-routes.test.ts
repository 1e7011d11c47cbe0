import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's GET /utils/supported_openai_params and POST /cost/estimate: answers about a model group, from
// Tollgate's own adapters and prices, without calling a provider. Every upstream here is a closed port.

const DEAD = 'http://127.0.0.1:9';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-priced
    litellm_params: {model: mock/mock-gpt, mock_response: "A canned answer of some length.", input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-4o-custom
    litellm_params: {model: openai/gpt-4o, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
    model_info: {input_cost_per_token: 0.000005}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_base: "${DEAD}", api_key: sk-ant-0002}
  - model_name: bedrock-claude
    litellm_params: {model: "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", api_base: "${DEAD}", aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: not-a-secret-0000, aws_region_name: us-east-1}
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${DEAD}", api_key: gm-0003}
  - model_name: claude-or-gemini
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_base: "${DEAD}", api_key: sk-ant-0002}
  - model_name: claude-or-gemini
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${DEAD}", api_key: gm-0003}
  - model_name: reranker
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${DEAD}", api_key: co-0004}
  - model_name: o3-mini
    litellm_params: {model: openai/o3-mini, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: o1
    litellm_params: {model: openai/o1-2024-12-17, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-5
    litellm_params: {model: openai/gpt-5, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-5-chat
    litellm_params: {model: openai/gpt-5-chat-latest, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-5-search
    litellm_params: {model: openai/gpt-5-search-api, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: azure-reasoner
    litellm_params: {model: azure/team-deployment, api_base: "${DEAD}", api_key: az-0005, api_version: "2025-04-01-preview"}
    model_info: {base_model: azure/o4-mini}
  - model_name: azure-gpt-5
    litellm_params: {model: azure/gpt-5-mini, api_base: "${DEAD}", api_key: az-0005, api_version: "2025-04-01-preview"}
router_settings:
  model_group_alias: {sonnet: claude}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
});

const supported = (model: string | undefined, key = TEST_MASTER_KEY) =>
  fetch(`${stack.url}/utils/supported_openai_params${model === undefined ? '' : `?model=${encodeURIComponent(model)}`}`, { headers: { authorization: `Bearer ${key}` } });
const estimate = (body: unknown, key = TEST_MASTER_KEY) => fetch(`${stack.url}/cost/estimate`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const chat = (body: Record<string, unknown>) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
});
const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; code: string } }).error;

const OPENAI_CHAT = [
  'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias', 'logprobs', 'max_completion_tokens', 'max_tokens',
  'modalities', 'n', 'parallel_tool_calls', 'prediction', 'presence_penalty', 'prompt_cache_key', 'reasoning_effort',
  'response_format', 'safety_identifier', 'seed', 'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature',
  'tool_choice', 'tools', 'top_logprobs', 'top_p', 'user', 'verbosity', 'web_search_options',
];
const ANTHROPIC = [
  'max_completion_tokens', 'max_tokens', 'parallel_tool_calls', 'reasoning_effort', 'response_format', 'stop', 'stream',
  'stream_options', 'temperature', 'tool_choice', 'tools', 'top_p', 'user',
];
// Converse takes `user` so a call is not refused, but sends it nowhere.
const BEDROCK = ['max_completion_tokens', 'max_tokens', 'stop', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools', 'top_p'];
const GEMINI = [
  'frequency_penalty', 'max_completion_tokens', 'max_tokens', 'n', 'presence_penalty', 'response_format', 'seed', 'stop', 'stream',
  'stream_options', 'temperature', 'tool_choice', 'tools', 'top_p',
];

describe('GET /utils/supported_openai_params', () => {
  it('answers the OpenAI params each provider\'s adapter sends or translates, in LiteLLM\'s shape', async () => {
    const cases: [string, string[]][] = [
      ['gpt-4o', OPENAI_CHAT],
      ['claude', ANTHROPIC],
      ['bedrock-claude', BEDROCK],
      ['gemini-flash', GEMINI],
      // The mock answers from config whatever the sampling params say.
      ['mock-priced', ['stream', 'stream_options']],
      // Cohere is served for rerank only: no chat params.
      ['reranker', []],
      // A group answers what every deployment serves, as a call may go to any of them.
      ['claude-or-gemini', ANTHROPIC.filter((p) => GEMINI.includes(p))],
      // A model_group_alias answers for the group it names.
      ['sonnet', ANTHROPIC],
    ];
    for (const [model, params] of cases) {
      const res = await supported(model);
      expect(res.status, model).toBe(200);
      expect(await res.json(), model).toEqual({ supported_openai_params: params });
    }
  });

  it("leaves out what OpenAI's reasoning models refuse, as LiteLLM does: o-series, gpt-5 (not gpt-5-chat), by base_model on Azure", async () => {
    const O_SERIES = OPENAI_CHAT.filter((p) => !['logprobs', 'top_p', 'presence_penalty', 'frequency_penalty', 'top_logprobs'].includes(p));
    const GPT_5 = OPENAI_CHAT.filter((p) => ![
      'presence_penalty', 'frequency_penalty', 'stop', 'logit_bias', 'modalities', 'prediction', 'audio', 'web_search_options', 'logprobs', 'top_p', 'top_logprobs',
    ].includes(p));
    const cases: [string, string[]][] = [
      ['o3-mini', O_SERIES],
      ['o1', O_SERIES],
      ['azure-reasoner', O_SERIES],
      ['gpt-5', GPT_5],
      ['azure-gpt-5', GPT_5],
      ['gpt-5-chat', OPENAI_CHAT],
      ['gpt-5-search', ['max_completion_tokens', 'max_tokens', 'response_format', 'safety_identifier', 'service_tier', 'store', 'stream', 'stream_options', 'user', 'verbosity', 'web_search_options']],
    ];
    for (const [model, params] of cases) {
      const res = await supported(model);
      expect(res.status, model).toBe(200);
      expect(await res.json(), model).toEqual({ supported_openai_params: params });
    }
    // Sampling params LiteLLM keeps: temperature (1 is taken) on both, logit_bias on the o-series.
    expect(O_SERIES).toEqual(expect.arrayContaining(['temperature', 'logit_bias', 'reasoning_effort']));
    expect(GPT_5).toEqual(expect.arrayContaining(['temperature', 'reasoning_effort', 'verbosity']));
  });

  it('lists nothing the Anthropic adapter refuses: every other OpenAI param is a 400 on a call, before any upstream', async () => {
    const unlisted = OPENAI_CHAT.filter((p) => !ANTHROPIC.includes(p));
    expect(unlisted.length).toBeGreaterThan(10);
    for (const param of unlisted) {
      // OpenAI's service tiers are refused; Anthropic's own values of the same field are its own param.
      const res = await chat({ model: 'claude', [param]: param === 'service_tier' ? 'default' : 1 });
      expect(res.status, param).toBe(400);
      expect((await errorOf(res)).message, param).toContain('does not support parameters');
    }
  });

  it('answers a key for the models it may call only, the master key for all', async () => {
    const narrow = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    expect((await supported('gpt-4o', narrow)).status).toBe(200);
    const refused = await supported('claude', narrow);
    expect(refused.status).toBe(401);
    expect(await errorOf(refused)).toMatchObject({ type: 'key_model_access_denied', code: '401' });
    expect((await supported('claude')).status).toBe(200);
    expect((await supported('claude', 'sk-not-a-key')).status).toBe(401);
  });

  it('refuses a request without a model, or naming none that exists, with a 400 in the OpenAI envelope', async () => {
    const missing = await supported(undefined);
    expect(missing.status).toBe(400);
    expect(await errorOf(missing)).toMatchObject({ type: 'bad_request_error', code: '400' });
    const unknown = await supported('no-such-model');
    expect(unknown.status).toBe(400);
    expect((await errorOf(unknown)).message).toContain('Invalid model name passed in model=no-such-model');
  });
});

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

describe('route groups', () => {
  it('lets a key held to llm_api_routes ask both, as it may /utils/token_counter; info_routes (as LiteLLM\'s) lists neither', async () => {
    const keyFor = async (routes: string[]) => {
      const key = await seedKey(stack.db.url);
      await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET allowed_routes = $2 WHERE token = $1', [sha256(key), routes]);
      return key;
    };
    const llmApi = await keyFor(['llm_api_routes']);
    const counted = await fetch(`${stack.url}/utils/token_counter`, {
      method: 'POST', headers: { authorization: `Bearer ${llmApi}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(counted.status).toBe(200);
    expect((await supported('gpt-4o', llmApi)).status).toBe(200);
    expect((await estimate({ model: 'claude', input_tokens: 10, output_tokens: 10 }, llmApi)).status).toBe(200);
    const readOnly = await keyFor(['info_routes']);
    const refused = await supported('gpt-4o', readOnly);
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).message).toContain('Virtual key is not allowed to call this route');
    expect((await estimate({ model: 'claude', input_tokens: 10, output_tokens: 10 }, readOnly)).status).toBe(401);
  });
});
