import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.ts';
import { toAnthropicRequest } from './convert-request.ts';

const options = { model: 'claude-sonnet-4-5', dropParams: false, defaultMaxTokens: 64000, stream: false };
const convert = (body: Record<string, unknown>, extra: Partial<typeof options> = {}) => toAnthropicRequest({ model: 'group', ...body }, { ...options, ...extra });

describe('toAnthropicRequest', () => {
  it('moves system and developer messages to `system` and merges turns', () => {
    const { payload } = convert({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Cite sources.', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'text', text: 'Still there?' }] },
        { role: 'assistant', content: 'Yes.' },
        { role: 'user', content: 'Good.', cache_control: { type: 'ephemeral' } },
      ],
    });
    expect(payload).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'Still there?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Yes.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Good.', cache_control: { type: 'ephemeral' } }] },
      ],
      system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Cite sources.', cache_control: { type: 'ephemeral' } }],
      max_tokens: 64000,
    });
  });

  it('turns data: URLs into base64 sources and http URLs into url sources', () => {
    const { payload } = convert({
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0x' } },
        ],
      }],
    });
    expect(payload.messages).toEqual([{
      role: 'user',
      content: [
        { type: 'text', text: 'Compare' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } },
      ],
    }]);
  });

  it('maps tools, tool calls and tool results, parallel results in one user turn', () => {
    const { payload } = convert({
      messages: [
        { role: 'user', content: 'Weather in SF and NYC?' },
        {
          role: 'assistant', content: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"SF"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"NYC"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '15 C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '22 C' }] },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } },
        { type: 'function', function: { name: 'ping' } },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(payload.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in SF and NYC?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'SF' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'NYC' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '15 C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '22 C' }] },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
    expect(payload.tools).toEqual([
      { name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
      { name: 'ping', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(payload.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
    [{ type: 'function', function: { name: 'ping' } }, { type: 'tool', name: 'ping' }],
  ])('maps tool_choice %j', (choice, expected) => {
    const { payload } = convert({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'ping' } }], tool_choice: choice });
    expect(payload.tool_choice).toEqual(expected);
  });

  it('turns a json_schema response_format into a forced tool', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const request = convert({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
    expect(request).toMatchObject({ jsonMode: true, unwrapValues: false });
    expect(request.payload.tools).toEqual([{ name: 'json_tool_call', input_schema: schema }]);
    expect(request.payload.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    const open = convert({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } });
    expect(open.payload.tools).toEqual([{ name: 'json_tool_call', input_schema: { type: 'object', additionalProperties: true, properties: {} } }]);
    expect(open.unwrapValues).toBe(true);
    expect(convert({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'text' } }).jsonMode).toBe(false);
  });

  it('maps sampling, stop, max tokens, user and reasoning effort', () => {
    const { payload } = convert({
      messages: [{ role: 'user', content: 'x' }],
      temperature: 0.2, top_p: 0.9, top_k: 40, stop: ['END', '\n\n'], max_completion_tokens: 300, max_tokens: 100,
      user: 'user-42', reasoning_effort: 'low', stream: true, stream_options: { include_usage: true },
      metadata: { team: 'gateway-only' }, frequency_penalty: null,
    }, { stream: true });
    expect(payload).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
      max_tokens: 300,
      stop_sequences: ['END', '\n\n'],
      temperature: 0.2,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
      top_k: 40,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      stream: true,
    });
  });

  it('leaves out a user id that is an email, and whitespace stop sequences with drop_params', () => {
    const { payload } = convert({ messages: [{ role: 'user', content: 'x' }], user: 'ada@example.com', stop: ' ' }, { dropParams: true });
    expect(payload).not.toHaveProperty('metadata');
    expect(payload).not.toHaveProperty('stop_sequences');
  });

  it('refuses what Anthropic does not take, naming it, unless drop_params', () => {
    const body = { messages: [{ role: 'user', content: 'x' }], logit_bias: { 1: 2 }, n: 2 };
    let error: unknown;
    try {
      convert(body);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, param: 'logit_bias' });
    expect((error as Error).message).toBe('anthropic does not support parameters: ["logit_bias","n"], for model=group. To drop these, set `litellm_settings: drop_params: true` in the config.');
    expect(convert(body, { dropParams: true }).payload).not.toHaveProperty('n');
  });

  it('keeps thinking blocks ahead of an assistant turn, and refuses bad tool arguments', () => {
    const { payload } = convert({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y', thinking_blocks: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }] },
      ],
    });
    expect(payload.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'x' }] },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }, { type: 'text', text: 'y' }] },
    ]);
    expect(() => convert({
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }] }],
    })).toThrow(/messages\[0\]\.tool_calls\[0\]\.function\.arguments is not valid JSON/);
  });

  it('passes Anthropic\'s service tiers, and takes an OpenAI one for a parameter Anthropic does not take', () => {
    expect(convert({ messages: [{ role: 'user', content: 'x' }], service_tier: 'standard_only' }).payload.service_tier).toBe('standard_only');
    expect(() => convert({ messages: [{ role: 'user', content: 'x' }], service_tier: 'flex' })).toThrow(/does not support parameters: \["service_tier"\]/);
    expect(convert({ messages: [{ role: 'user', content: 'x' }], service_tier: 'flex' }, { dropParams: true }).payload).not.toHaveProperty('service_tier');
  });
});
