import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { UTILS_ROUTES_CONFIG, utilsRoutesClient } from './support/utils-routes-stack.ts';

// LiteLLM's GET /utils/supported_openai_params and POST /cost/estimate: answers about a model group, from
// Tollgate's own adapters and prices, without calling a provider. Every upstream here is a closed port.
// This file: supported_openai_params and the route groups of both; /cost/estimate: cost-estimate.test.ts.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: UTILS_ROUTES_CONFIG });
});
afterAll(async () => {
  await stack?.stop();
});

const { supported, estimate, chat, errorOf } = utilsRoutesClient(() => stack);

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
