// The official Anthropic SDK against /v1/messages for an Anthropic model. messages-openai has the OpenAI model, keys and input.
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { errorFixture, jsonFixture, streamFixture } from './fakes/anthropic.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { useMessagesStack, weatherTool } from './support/messages-stack.ts';

const m = useMessagesStack();

describe('/v1/messages for an Anthropic model', () => {
  it('answers a plain message, with Anthropic\'s fields kept end to end', async () => {
    m.anthropicFake.enqueue(jsonFixture('text'));
    const { data: message, response } = await m.client.messages.create({
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
    expect(m.anthropicFake.requests[0]?.body).toEqual({
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
    const row = await eventually(() => spendLogRow(m.stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 2095, completion_tokens: 503, end_user: 'user-1' });
  });

  it('round-trips tool use and tool results', async () => {
    m.anthropicFake.enqueue(jsonFixture('tool-use'));
    const message = await m.client.messages.create({
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
    expect(m.anthropicFake.requests[0]?.body).toMatchObject({
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
    m.anthropicFake.enqueue(streamFixture('text'));
    const stream = m.client.messages.stream({ model: 'claude', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
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
    m.anthropicFake.enqueue(streamFixture('tool-use'));
    const message = await m.client.messages.stream({ model: 'claude', max_tokens: 1024, tools: [weatherTool], messages: [{ role: 'user', content: 'SF and NYC?' }] }).finalMessage();
    expect(message.content).toEqual([
      { type: 'text', text: 'Okay, let\'s check both cities.' },
      { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: { location: 'San Francisco, CA' } },
      { type: 'tool_use', id: 'toolu_01V2y2gK45rBnl3uOsSoO8Vq7', name: 'get_weather', input: { location: 'New York, NY' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 472, cache_read_input_tokens: 2000, cache_creation_input_tokens: 100, output_tokens: 89 });
  });

  it('keeps 529 overloaded_error and a 429\'s retry-after, in Anthropic\'s envelope', async () => {
    m.anthropicFake.enqueue(errorFixture('error-overloaded', 529));
    const overloaded = await m.client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect(overloaded).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error', message: 'litellm.InternalServerError: AnthropicException - Overloaded' } } });
    m.anthropicFake.enqueue(errorFixture('error-rate-limit', 429, { 'retry-after': '30' }));
    const limited = await m.client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('30');
  });

  it('ends a stream Anthropic breaks off with an error event', async () => {
    m.anthropicFake.enqueue(streamFixture('overloaded-midstream'));
    const stream = m.client.messages.stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(text).toBe('Partial');
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('overloaded_error');
  });

  it('counts tokens', async () => {
    const count = await m.client.messages.countTokens({ model: 'claude', system: 'Be brief.', messages: [{ role: 'user', content: 'How many tokens is this?' }] });
    expect(count).toEqual({ input_tokens: Math.ceil(('Be brief.'.length + 'How many tokens is this?'.length) / 4) });
    expect(m.anthropicFake.requests).toHaveLength(0);
  });
});
