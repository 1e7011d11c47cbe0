import { describe, expect, it } from 'vitest';
import { fixtureJson } from '../../../test/fakes/anthropic.ts';
import { toOpenAIChatCompletion } from './convert-response.ts';
import { anthropicMessageSchema } from './schemas.ts';
import { usageReport } from './usage.ts';

const plain = { jsonMode: false, unwrapValues: false, created: 1_700_000_000 };
const convert = (name: string, options = plain) => toOpenAIChatCompletion(anthropicMessageSchema.parse(fixtureJson(name)), options);

describe('toOpenAIChatCompletion', () => {
  it('turns a text answer into a chat completion with usage', () => {
    expect(convert('text').completion).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598, prompt_tokens_details: { cached_tokens: 0 },
        cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
      },
    });
  });

  it('turns parallel tool_use blocks into tool_calls in order', () => {
    const { completion, text, toolCalls } = convert('tool-use');
    expect(completion.choices).toEqual([{
      index: 0,
      message: {
        role: 'assistant',
        content: 'I\'ll check the weather in both cities.',
        tool_calls: [
          { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
          { id: 'toolu_01B19r01rx01mr028946mr0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"New York, NY","unit":"celsius"}' } },
        ],
      },
      finish_reason: 'tool_calls',
    }]);
    // What the logs keep: the text apart, and the same tool calls the client got.
    expect(text).toBe('I\'ll check the weather in both cities.');
    expect(toolCalls).toEqual((completion.choices[0]!.message as { tool_calls: unknown }).tool_calls);
  });

  it('counts cache reads and writes into the prompt, as cost.ts prices them', () => {
    const { completion, tokens } = convert('cached');
    expect(completion.usage).toEqual({
      prompt_tokens: 21 + 1000 + 188086, completion_tokens: 393, total_tokens: 21 + 1000 + 188086 + 393,
      prompt_tokens_details: { cached_tokens: 1000 }, cache_creation_input_tokens: 188086, cache_read_input_tokens: 1000,
    });
    expect(usageReport(tokens, true)).toEqual({ promptTokens: 189107, completionTokens: 393, cachedPromptTokens: 1000, cacheCreationTokens: 188086, reported: true });
  });

  it('gives the forced JSON tool\'s input as content in JSON mode', () => {
    const { completion, text, toolCalls } = convert('json-mode', { ...plain, jsonMode: true });
    expect(completion.choices).toEqual([{ index: 0, message: { role: 'assistant', content: '{"name":"Ada Lovelace","born":1815}' }, finish_reason: 'stop' }]);
    // Kept as the client got it: the text, no tool call.
    expect(text).toBe('{"name":"Ada Lovelace","born":1815}');
    expect(toolCalls).toEqual([]);
  });

  it('keeps the stop sequence that ended the answer', () => {
    const { completion } = convert('stop-sequence');
    expect(completion.choices).toEqual([{
      index: 0, message: { role: 'assistant', content: '1, 2, 3', provider_specific_fields: { stop_sequence: '4' } }, finish_reason: 'stop',
    }]);
  });

  it.each([
    ['end_turn', 'stop'], ['stop_sequence', 'stop'], ['max_tokens', 'length'], ['tool_use', 'tool_calls'], ['refusal', 'content_filter'],
  ])('maps stop_reason %s to %s', (stopReason, finish) => {
    const message = anthropicMessageSchema.parse({ ...fixtureJson('text'), stop_reason: stopReason });
    expect(toOpenAIChatCompletion(message, plain).completion.choices[0]?.finish_reason).toBe(finish);
  });

  it('gives thinking as reasoning_content and thinking_blocks', () => {
    const message = anthropicMessageSchema.parse({
      ...fixtureJson('text'),
      content: [{ type: 'thinking', thinking: 'Let me see.', signature: 'sig1' }, { type: 'redacted_thinking', data: 'abc' }, { type: 'text', text: '42' }],
    });
    expect(toOpenAIChatCompletion(message, plain).completion.choices[0]?.message).toEqual({
      role: 'assistant', content: '42', reasoning_content: 'Let me see.',
      thinking_blocks: [{ type: 'thinking', thinking: 'Let me see.', signature: 'sig1' }, { type: 'redacted_thinking', data: 'abc' }],
    });
  });
});
