// The official Anthropic SDK against /v1/messages for an OpenAI model, and the route's keys and input checks.
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { openaiChatChunks, openaiChatCompletion, openaiRateLimitError } from './fakes/openai-format.ts';
import { seedKey } from './support/keys.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { useMessagesStack, weatherTool } from './support/messages-stack.ts';

const m = useMessagesStack();

describe('/v1/messages for an OpenAI model', () => {
  it('answers a plain message from an OpenAI chat completion', async () => {
    const message = await m.client.messages.create({
      model: 'gpt-4o',
      max_tokens: 100,
      system: 'Be brief.',
      stop_sequences: ['END'],
      messages: [{ role: 'user', content: 'one two three' }],
    });
    expect(m.openaiFake.requests[0]?.body).toEqual({
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
    const stream = m.client.messages.stream({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'stream these words' }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'echo: stream these words' }]);
    expect(message.usage).toMatchObject({ input_tokens: 6, output_tokens: 4 });
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(m.openaiFake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('translates tools both ways, plain and streamed', async () => {
    const toolCalls = [{ id: 'call_1', name: 'get_weather', arguments: '{"location":"SF"}' }, { id: 'call_2', name: 'get_weather', arguments: '{"location":"NYC"}' }];
    m.openaiFake.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'gpt-4o', content: null, promptTokens: 30, completionTokens: 12, toolCalls }) });
    const plain = await m.client.messages.create({
      model: 'gpt-4o', max_tokens: 100, tools: [weatherTool], tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_0', name: 'get_weather', input: { location: 'LA' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_0', content: [{ type: 'text', text: '25 C' }] }] },
      ],
    });
    expect(m.openaiFake.requests[0]?.body).toEqual({
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

    m.openaiFake.enqueue({ kind: 'sse', events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['Sure.'], promptTokens: 30, completionTokens: 12, includeUsage: true, toolCalls }), '[DONE]'] });
    const streamed = await m.client.messages.stream({ model: 'gpt-4o', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(streamed.content).toEqual([
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'SF' } },
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'NYC' } },
    ]);
    expect(streamed.stop_reason).toBe('tool_use');
  });

  it('refuses Anthropic-only parameters an OpenAI model does not take, in Anthropic\'s envelope', async () => {
    const err = await m.client.messages.create({
      model: 'gpt-4o', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'x' }],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } });
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { message: expect.stringContaining('openai does not support parameters: ["thinking"]') } });
    expect(m.openaiFake.requests).toHaveLength(0);
  });

  it('keeps an upstream 429 with its retry-after', async () => {
    m.openaiFake.enqueue({ kind: 'error', status: 429, body: openaiRateLimitError('gpt-4o', 7), headers: { 'retry-after': '7' } });
    const err = await m.client.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err).toMatchObject({ status: 429, error: { error: { type: 'rate_limit_error' } } });
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('7');
  });
});

describe('/v1/messages keys and input', () => {
  it('takes a virtual key as x-api-key or Bearer, and refuses an unknown one', async () => {
    const key = await seedKey(m.stack.db.url, { models: ['gpt-4o'] });
    const viaHeader = new Anthropic({ baseURL: m.stack.url, apiKey: key, maxRetries: 0 });
    expect((await viaHeader.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).content).toEqual([{ type: 'text', text: 'echo: hi' }]);
    const viaBearer = new Anthropic({ baseURL: m.stack.url, apiKey: null, authToken: key, maxRetries: 0 });
    expect((await viaBearer.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).type).toBe('message');
    const denied = await viaHeader.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401, error: { error: { type: 'authentication_error' } } });
    const unknown = new Anthropic({ baseURL: m.stack.url, apiKey: 'sk-not-a-key-0000', maxRetries: 0 });
    const refused = await unknown.messages.countTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('refuses a request without a key before reading its body: 401, not the body\'s 400', async () => {
    const res = await fetch(`${m.stack.url}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', max_tokens: 5 }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('No api key passed in') } });
    expect(m.openaiFake.requests).toHaveLength(0);
  });

  it('refuses a malformed body or an unknown model with invalid_request_error', async () => {
    const res = await fetch(`${m.stack.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', max_tokens: 5 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('messages') } });
    const unknown = await m.client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error' } } });
  });
});
