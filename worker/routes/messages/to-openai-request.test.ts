import { describe, expect, it } from 'vitest';
import { messagesRequestSchema } from './request-schema.ts';
import { toOpenAIChatRequest } from './to-openai-request.ts';

const translate = (body: Record<string, unknown>, anthropicTarget = false) =>
  toOpenAIChatRequest(messagesRequestSchema.parse(body), { anthropicTarget });

const conversation = {
  model: 'claude',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are a weather bot.', cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Weather in SF?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } }] },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Use the tool.', signature: 'sig' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'SF' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '15 C', is_error: false },
        { type: 'text', text: 'And tomorrow?' },
      ],
    },
  ],
  tools: [
    { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, cache_control: { type: 'ephemeral' } },
    { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
  ],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['END'],
  temperature: 0.3,
  top_k: 5,
  metadata: { user_id: 'user-7' },
  stream: true,
  tags: ['cli'],
};

describe('toOpenAIChatRequest', () => {
  it('translates a conversation with tools for any provider', () => {
    expect(translate(conversation)).toEqual({
      model: 'claude',
      messages: [
        { role: 'system', content: 'You are a weather bot.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in SF?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } }] },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"SF"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '15 C' },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
      ],
      max_tokens: 1024,
      stop: ['END'],
      temperature: 0.3,
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, description: 'Current weather' } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      user: 'user-7',
      stream: true,
      stream_options: { include_usage: true },
      top_k: 5,
      tags: ['cli'],
    });
  });

  it('keeps Anthropic-only detail when every deployment is Anthropic', () => {
    const body = translate(conversation, true);
    const messages = body.messages as Record<string, unknown>[];
    expect(messages[0]).toEqual({ role: 'system', content: [{ type: 'text', text: 'You are a weather bot.', cache_control: { type: 'ephemeral' } }] });
    expect(messages[2]).toMatchObject({ thinking_blocks: [{ type: 'thinking', thinking: 'Use the tool.', signature: 'sig' }] });
    expect((body.tools as Record<string, unknown>[])[0]).toMatchObject({ cache_control: { type: 'ephemeral' } });
  });

  it.each([
    [{ type: 'auto' }, { tool_choice: 'auto' }],
    [{ type: 'none' }, { tool_choice: 'none' }],
    [{ type: 'tool', name: 'get_weather' }, { tool_choice: { type: 'function', function: { name: 'get_weather' } } }],
  ])('maps tool_choice %j', (choice, expected) => {
    const body = translate({ model: 'm', messages: [{ role: 'user', content: 'x' }], tool_choice: choice });
    expect(body).toMatchObject(expected);
    expect(body).not.toHaveProperty('parallel_tool_calls');
  });
});
