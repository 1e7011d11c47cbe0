import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorFixture, jsonFixture, startFakeAnthropic, streamFixture } from './fakes/anthropic.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { collectToolCalls } from './support/streams.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// claude-sonnet-4-5's prices in the bundled table (LiteLLM's map), USD per token; 64,000 output tokens at most.
const IN = 3e-6;
const OUT = 1.5e-5;
const CACHE_READ = 3e-7;
const CACHE_WRITE = 3.75e-6;

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: os.environ/FAKE_ANTHROPIC_KEY}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
litellm_settings:
  drop_params: false
`,
    env: { FAKE_ANTHROPIC_KEY: 'sk-ant-upstream-secret-0001' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

describe('the openai client against an anthropic/ model', () => {
  it('sends Anthropic exactly the Messages request, and answers in OpenAI\'s format with cost', async () => {
    fake.enqueue(jsonFixture('text'));
    const { data, response } = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Who are you?' }],
      temperature: 0.5,
      stop: ['###'],
      user: 'end-user-7',
    }).withResponse();
    const [sent] = fake.requests;
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.headers).toMatchObject({ 'x-api-key': 'sk-ant-upstream-secret-0001', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Who are you?' }] }],
      system: [{ type: 'text', text: 'Be brief.' }],
      max_tokens: 64000,
      stop_sequences: ['###'],
      temperature: 0.5,
      metadata: { user_id: 'end-user-7' },
    });
    expect(data).toMatchObject({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598 },
    });
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(2095 * IN + 503 * OUT, 12);
    expect(response.headers.get('x-litellm-model-api-base')).toBe(`${fake.url}/v1/messages`);
  });

  it('counts cache reads and writes, at their prices', async () => {
    fake.enqueue(jsonFixture('cached'));
    const { data, response } = await client.chat.completions.create({ model: 'claude', max_tokens: 500, messages: [{ role: 'user', content: 'Summarise' }] }).withResponse();
    expect(data.usage).toEqual({
      prompt_tokens: 21 + 1000 + 188086, completion_tokens: 393, total_tokens: 21 + 1000 + 188086 + 393,
      prompt_tokens_details: { cached_tokens: 1000 }, cache_creation_input_tokens: 188086, cache_read_input_tokens: 1000,
    });
    const cost = 21 * IN + 1000 * CACHE_READ + 188086 * CACHE_WRITE + 393 * OUT;
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(cost, 12);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 189107, completion_tokens: 393, custom_llm_provider: 'anthropic' });
    expect(Number(row.spend)).toBeCloseTo(cost, 12);
    expect(fake.requests[0]?.body).toMatchObject({ max_tokens: 500 });
  });

  it('sends tools and tool results, and returns parallel tool calls', async () => {
    fake.enqueue(jsonFixture('tool-use'));
    const data = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is in this image, and the weather?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_0', content: '18 C' },
      ],
      tools: [weatherTool],
      tool_choice: 'auto',
      parallel_tool_calls: true,
    });
    expect(fake.requests[0]?.body).toMatchObject({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is in this image, and the weather?' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: '18 C' }] },
      ],
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: weatherTool.function.parameters }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: false },
    });
    expect(data.choices[0]?.finish_reason).toBe('tool_calls');
    expect(data.choices[0]?.message.tool_calls).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
      { id: 'toolu_01B19r01rx01mr028946mr0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"New York, NY","unit":"celsius"}' } },
    ]);
  });

  it('answers JSON mode from the forced tool', async () => {
    fake.enqueue(jsonFixture('json-mode'));
    const data = await client.chat.completions.create({
      model: 'claude', messages: [{ role: 'user', content: 'Ada?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: { type: 'object', properties: { name: { type: 'string' }, born: { type: 'integer' } } } } },
    });
    expect(JSON.parse(data.choices[0]?.message.content ?? '')).toEqual({ name: 'Ada Lovelace', born: 1815 });
    expect(fake.requests[0]?.body).toMatchObject({ tool_choice: { type: 'tool', name: 'json_tool_call' } });
  });

  it('streams text, hiding usage from a client that did not ask', async () => {
    fake.enqueue(streamFixture('text'));
    const stream = await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello, wörld 👋!');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(fake.requests[0]?.body).toMatchObject({ stream: true });
    expect(fake.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('streams parallel tool calls and the usage chunk when asked, and logs the spend', async () => {
    fake.enqueue(streamFixture('tool-use', { intervalMs: 5 }));
    const { data: stream, response } = await client.chat.completions.create({
      model: 'claude', stream: true, stream_options: { include_usage: true }, tools: [weatherTool], messages: [{ role: 'user', content: 'SF and NYC?' }],
    }).withResponse();
    const { calls, finish, usage } = await collectToolCalls(stream);
    expect(calls).toEqual([
      { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '{"location": "San Francisco, CA"}' },
      { id: 'toolu_01V2y2gK45rBnl3uOsSoO8Vq7', name: 'get_weather', arguments: '{"location": "New York, NY"}' },
    ]);
    expect(finish).toBe('tool_calls');
    expect(usage).toMatchObject({ prompt_tokens: 2572, completion_tokens: 89, prompt_tokens_details: { cached_tokens: 2000 } });
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 2572, completion_tokens: 89 });
    expect(Number(row.spend)).toBeCloseTo(472 * IN + 2000 * CACHE_READ + 100 * CACHE_WRITE + 89 * OUT, 12);
    expect(row.metadata).not.toHaveProperty('usage_estimated');
  });

  it('keeps a 429 with its retry-after', async () => {
    fake.enqueue(errorFixture('error-rate-limit', 429, { 'retry-after': '12' }));
    const err = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const api = err as InstanceType<typeof OpenAI.APIError>;
    expect(api.status).toBe(429);
    expect(api.headers?.get('retry-after')).toBe('12');
    expect(api.error).toMatchObject({
      type: 'rate_limit_error', code: '429',
      message: 'litellm.RateLimitError: AnthropicException - This request would exceed the rate limit for your organization (a1b2c3) of 50 input tokens per minute.',
    });
  });

  it('keeps 529 for an overloaded Anthropic, plain or at the start of a stream', async () => {
    fake.enqueue(errorFixture('error-overloaded', 529));
    const plain = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(plain).toMatchObject({ status: 529, error: { message: 'litellm.InternalServerError: AnthropicException - Overloaded' } });
    fake.enqueue(streamFixture('overloaded-first'));
    const streamed = await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(streamed).toMatchObject({ status: 529 });
  });

  it('ends a stream Anthropic breaks off with an error event, and records the failure', async () => {
    fake.enqueue(streamFixture('overloaded-midstream'));
    const { data: stream, response } = await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] }).withResponse();
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('Partial');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure' });
  });

  it('refuses a parameter Anthropic does not take, naming it, before any upstream call', async () => {
    const err = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], logit_bias: { 50256: -100 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, error: { param: 'logit_bias' } });
    expect((err as Error).message).toContain('anthropic does not support parameters: ["logit_bias"]');
    expect(fake.requests).toHaveLength(0);
  });
});
