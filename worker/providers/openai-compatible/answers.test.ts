import { describe, expect, it } from 'vitest';
import type { ProviderCall } from '../types.ts';
import { jsonOutcome, responsesAnswer } from './answers.ts';

const call = (endpoint: ProviderCall['endpoint'], keepText: boolean) => ({ endpoint, keepText, promptTokenEstimate: 3, body: {} }) as unknown as ProviderCall;
const bytes = (json: unknown) => new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer;
const usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };

describe('the tool calls a plain answer keeps', () => {
  const toolAnswer = {
    id: 'chatcmpl-1', object: 'chat.completion', usage,
    choices: [{
      index: 0, finish_reason: 'tool_calls',
      message: {
        role: 'assistant', content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
    }],
  };

  it('keeps a chat answer\'s tool_calls (no text: its content is null), only when the call keeps text', () => {
    const kept = jsonOutcome(bytes(toolAnswer), call('chat', true));
    expect(kept.responseText).toBeUndefined();
    expect(kept.responseToolCalls).toEqual(toolAnswer.choices[0]!.message.tool_calls);
    expect(kept.finishReason).toBe('tool_calls');
    expect(jsonOutcome(bytes(toolAnswer), call('chat', false)).responseToolCalls).toBeUndefined();
  });

  it('keeps the legacy function_call as one call without an id', () => {
    const legacy = { usage, choices: [{ index: 0, message: { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"q":1}' } } }] };
    expect(jsonOutcome(bytes(legacy), call('chat', true)).responseToolCalls).toEqual([{ id: '', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }]);
  });

  it('keeps nothing for an answer without tool calls', () => {
    const plain = { usage, choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' } }] };
    const kept = jsonOutcome(bytes(plain), call('chat', true));
    expect(kept.responseText).toBe('Hi');
    expect('responseToolCalls' in kept).toBe(false);
  });

  it('keeps a Responses API answer\'s function_call items, by their call_id', async () => {
    const answer = {
      id: 'resp_1', object: 'response', status: 'completed', usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 },
      output: [
        { type: 'function_call', id: 'fc_1', call_id: 'call_x', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' },
        { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        { type: 'function_call', id: 'fc_2', call_id: 'call_y', name: 'get_time', arguments: '{}', status: 'completed' },
      ],
    };
    const kept = await responsesAnswer(bytes(answer), call('responses', true), (id) => id).outcome;
    expect(kept.responseToolCalls).toEqual([
      { id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { id: 'call_y', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect((await responsesAnswer(bytes(answer), call('responses', false), (id) => id).outcome).responseToolCalls).toBeUndefined();
  });
});
