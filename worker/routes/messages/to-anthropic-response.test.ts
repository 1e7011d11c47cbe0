import { describe, expect, it } from 'vitest';
import { openaiChatCompletion } from '../../../test/fakes/openai-format.ts';
import { chatCompletionSchema, toAnthropicMessage } from './to-anthropic-response.ts';

const convert = (completion: unknown) => toAnthropicMessage(chatCompletionSchema.parse(completion));

describe('toAnthropicMessage', () => {
  it('turns an OpenAI answer with tool calls into an Anthropic message', () => {
    const completion = openaiChatCompletion({
      model: 'gpt-4o', content: 'Let me look.', promptTokens: 20, completionTokens: 9, cachedTokens: 8,
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"SF"}' }, { id: 'call_2', name: 'get_time', arguments: '' }],
    });
    expect(convert(completion)).toEqual({
      id: completion.id,
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o',
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'SF' } },
        { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 9 },
    });
  });

  it('reads back what the Anthropic adapter carries: cache counts, stop sequence, thinking', () => {
    const message = convert({
      id: 'msg_1', object: 'chat.completion', created: 1, model: 'claude-sonnet-4-5',
      choices: [{
        index: 0, finish_reason: 'stop',
        message: {
          role: 'assistant', content: '1, 2, 3', reasoning_content: 'count',
          thinking_blocks: [{ type: 'thinking', thinking: 'count', signature: 'sig' }],
          provider_specific_fields: { stop_sequence: '4' },
        },
      }],
      usage: { prompt_tokens: 1111, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 1000 }, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 },
    });
    expect(message).toMatchObject({
      content: [{ type: 'thinking', thinking: 'count', signature: 'sig' }, { type: 'text', text: '1, 2, 3' }],
      stop_reason: 'stop_sequence',
      stop_sequence: '4',
      usage: { input_tokens: 11, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 8 },
    });
  });

  it.each([['length', 'max_tokens'], ['content_filter', 'refusal'], ['stop', 'end_turn']])('maps finish_reason %s to %s', (finish, stop) => {
    const completion = openaiChatCompletion({ model: 'gpt-4o', content: 'x', promptTokens: 1, completionTokens: 1, finishReason: finish as 'stop' });
    expect(convert(completion).stop_reason).toBe(stop);
  });
});
