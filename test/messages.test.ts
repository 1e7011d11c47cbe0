import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorFixture, jsonFixture, startFakeAnthropic, streamFixture } from './fakes/anthropic.ts';
import { openaiChatChunks, openaiChatCompletion, openaiRateLimitError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The official Anthropic SDK against /v1/messages, for an Anthropic model and for an OpenAI one.
let anthropicFake: FakeUpstream;
let openaiFake: FakeUpstream;
let stack: TestStack;
let client: Anthropic;

beforeAll(async () => {
  anthropicFake = await startFakeAnthropic();
  openaiFake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropicFake.url}", api_key: sk-ant-upstream-0001}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${openaiFake.url}/v1", api_key: sk-openai-upstream-0002}
litellm_settings:
  drop_params: false
`,
  });
  client = new Anthropic({ baseURL: stack.url, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await anthropicFake?.close();
  await openaiFake?.close();
});
beforeEach(() => {
  anthropicFake.reset();
  openaiFake.reset();
});

const weatherTool = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

describe('/v1/messages for an Anthropic model', () => {
  it('answers a plain message, with Anthropic\'s fields kept end to end', async () => {
    anthropicFake.enqueue(jsonFixture('text'));
    const { data: message, response } = await client.messages.create({
      model: 'claude',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'You are Claude.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Who are you?' }],
      metadata: { user_id: 'user-1' },
      thinking: { type: 'enabled', budget_tokens: 512 },
      service_tier: 'standard_only',
    }).withResponse();
    expect(message).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 2095, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 503 },
    });
    expect(anthropicFake.requests[0]?.body).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Who are you?' }] }],
      system: [{ type: 'text', text: 'You are Claude.', cache_control: { type: 'ephemeral' } }],
      max_tokens: 1024,
      metadata: { user_id: 'user-1' },
      thinking: { type: 'enabled', budget_tokens: 512 },
      service_tier: 'standard_only',
    });
    expect(response.headers.get('x-litellm-model-group')).toBe('claude');
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeGreaterThan(0);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 2095, completion_tokens: 503, end_user: 'user-1' });
  });

  it('round-trips tool use and tool results', async () => {
    anthropicFake.enqueue(jsonFixture('tool-use'));
    const message = await client.messages.create({
      model: 'claude',
      max_tokens: 1024,
      tools: [weatherTool],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'unreachable', is_error: true }, { type: 'text', text: 'Try SF and NYC.' }] },
      ],
    });
    expect(anthropicFake.requests[0]?.body).toMatchObject({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'unreachable', is_error: true }, { type: 'text', text: 'Try SF and NYC.' }] },
      ],
      tools: [weatherTool],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'text', text: 'I\'ll check the weather in both cities.' },
      { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
      { type: 'tool_use', id: 'toolu_01B19r01rx01mr028946mr0', name: 'get_weather', input: { location: 'New York, NY', unit: 'celsius' } },
    ]);
  });

  it('streams text events', async () => {
    anthropicFake.enqueue(streamFixture('text'));
    const stream = client.messages.stream({ model: 'claude', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const message = await stream.finalMessage();
    expect(text).toBe('Hello, wörld 👋!');
    expect(message).toMatchObject({
      id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
      content: [{ type: 'text', text: 'Hello, wörld 👋!' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 25, output_tokens: 15 },
    });
  });

  it('streams parallel tool use with input_json_delta', async () => {
    anthropicFake.enqueue(streamFixture('tool-use'));
    const message = await client.messages.stream({ model: 'claude', max_tokens: 1024, tools: [weatherTool], messages: [{ role: 'user', content: 'SF and NYC?' }] }).finalMessage();
    expect(message.content).toEqual([
      { type: 'text', text: 'Okay, let\'s check both cities.' },
      { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: { location: 'San Francisco, CA' } },
      { type: 'tool_use', id: 'toolu_01V2y2gK45rBnl3uOsSoO8Vq7', name: 'get_weather', input: { location: 'New York, NY' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 472, cache_read_input_tokens: 2000, cache_creation_input_tokens: 100, output_tokens: 89 });
  });

  it('keeps 529 overloaded_error and a 429\'s retry-after, in Anthropic\'s envelope', async () => {
    anthropicFake.enqueue(errorFixture('error-overloaded', 529));
    const overloaded = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect(overloaded).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error', message: 'litellm.InternalServerError: AnthropicException - Overloaded' } } });
    anthropicFake.enqueue(errorFixture('error-rate-limit', 429, { 'retry-after': '30' }));
    const limited = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('30');
  });

  it('ends a stream Anthropic breaks off with an error event', async () => {
    anthropicFake.enqueue(streamFixture('overloaded-midstream'));
    const stream = client.messages.stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(text).toBe('Partial');
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('overloaded_error');
  });

  it('counts tokens', async () => {
    const count = await client.messages.countTokens({ model: 'claude', system: 'Be brief.', messages: [{ role: 'user', content: 'How many tokens is this?' }] });
    expect(count).toEqual({ input_tokens: Math.ceil(('Be brief.'.length + 'How many tokens is this?'.length) / 4) });
    expect(anthropicFake.requests).toHaveLength(0);
  });
});

describe('/v1/messages for an OpenAI model', () => {
  it('answers a plain message from an OpenAI chat completion', async () => {
    const message = await client.messages.create({
      model: 'gpt-4o',
      max_tokens: 100,
      system: 'Be brief.',
      stop_sequences: ['END'],
      messages: [{ role: 'user', content: 'one two three' }],
    });
    expect(openaiFake.requests[0]?.body).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'one two three' }],
      max_tokens: 100,
      stop: ['END'],
    });
    expect(message).toMatchObject({
      type: 'message', role: 'assistant', model: 'gpt-4o',
      content: [{ type: 'text', text: 'echo: one two three' }],
      stop_reason: 'end_turn',
      // The echo counts words + 3 a message: (2 + 3) + (3 + 3) prompt tokens, 4 completion tokens.
      usage: { input_tokens: 11, output_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
  });

  it('streams text, and turns the usage chunk into message_delta usage', async () => {
    const stream = client.messages.stream({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'stream these words' }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'echo: stream these words' }]);
    expect(message.usage).toMatchObject({ input_tokens: 6, output_tokens: 4 });
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(openaiFake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('translates tools both ways, plain and streamed', async () => {
    const toolCalls = [{ id: 'call_1', name: 'get_weather', arguments: '{"location":"SF"}' }, { id: 'call_2', name: 'get_weather', arguments: '{"location":"NYC"}' }];
    openaiFake.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'gpt-4o', content: null, promptTokens: 30, completionTokens: 12, toolCalls }) });
    const plain = await client.messages.create({
      model: 'gpt-4o', max_tokens: 100, tools: [weatherTool], tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_0', name: 'get_weather', input: { location: 'LA' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_0', content: [{ type: 'text', text: '25 C' }] }] },
      ],
    });
    expect(openaiFake.requests[0]?.body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"LA"}' } }] },
        { role: 'tool', tool_call_id: 'call_0', content: [{ type: 'text', text: '25 C' }] },
      ],
      max_tokens: 100,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherTool.input_schema } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(plain.stop_reason).toBe('tool_use');
    expect(plain.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'SF' } },
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'NYC' } },
    ]);

    openaiFake.enqueue({ kind: 'sse', events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['Sure.'], promptTokens: 30, completionTokens: 12, includeUsage: true, toolCalls }), '[DONE]'] });
    const streamed = await client.messages.stream({ model: 'gpt-4o', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(streamed.content).toEqual([
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'SF' } },
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'NYC' } },
    ]);
    expect(streamed.stop_reason).toBe('tool_use');
  });

  it('refuses Anthropic-only parameters an OpenAI model does not take, in Anthropic\'s envelope', async () => {
    const err = await client.messages.create({
      model: 'gpt-4o', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'x' }],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } });
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { message: expect.stringContaining('openai does not support parameters: ["thinking"]') } });
    expect(openaiFake.requests).toHaveLength(0);
  });

  it('keeps an upstream 429 with its retry-after', async () => {
    openaiFake.enqueue({ kind: 'error', status: 429, body: openaiRateLimitError('gpt-4o', 7), headers: { 'retry-after': '7' } });
    const err = await client.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err).toMatchObject({ status: 429, error: { error: { type: 'rate_limit_error' } } });
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('7');
  });
});

describe('/v1/messages keys and input', () => {
  it('takes a virtual key as x-api-key or Bearer, and refuses an unknown one', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    const viaHeader = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    expect((await viaHeader.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).content).toEqual([{ type: 'text', text: 'echo: hi' }]);
    const viaBearer = new Anthropic({ baseURL: stack.url, apiKey: null, authToken: key, maxRetries: 0 });
    expect((await viaBearer.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).type).toBe('message');
    const denied = await viaHeader.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401, error: { error: { type: 'authentication_error' } } });
    const unknown = new Anthropic({ baseURL: stack.url, apiKey: 'sk-not-a-key-0000', maxRetries: 0 });
    const refused = await unknown.messages.countTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('refuses a malformed body or an unknown model with invalid_request_error', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', max_tokens: 5 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('messages') } });
    const unknown = await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error' } } });
  });
});
