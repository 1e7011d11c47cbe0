import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { keptAnswer } from '../providers/answer-tool-calls.ts';
import type { AnswerToolCall, CallOutcome } from '../providers/types.ts';
import { type AnsweredCall, storedResponse } from './stored-response.ts';

// The spend log's `response` (store_prompts_in_spend_logs) of an answer with tool calls: what the UI's logs show.

const weather: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];
const MAX = 32 * 1024;
const chat: AnsweredCall = { endpoint: 'chat', deployment: { model: 'gpt-4o' } };
const outcome = (over: Partial<CallOutcome> = {}): CallOutcome => ({
  usage: { promptTokens: 10, completionTokens: 5, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }, finishedAt: 0, ...over,
});

describe('the spend log response of an answer with tool calls', () => {
  it('is the chat completion with the message\'s tool_calls (content null) and finish_reason tool_calls', () => {
    expect(storedResponse(chat, { outcome: outcome({ responseToolCalls: weather }) }, MAX)).toMatchObject({
      object: 'chat.completion', choices: [{ finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: weather } }],
    });
    expect(storedResponse(chat, { outcome: outcome({ responseText: 'Looking.', responseToolCalls: weather }) }, MAX))
      .toMatchObject({ choices: [{ message: { content: 'Looking.', tool_calls: weather } }] });
    expect(storedResponse(chat, { outcome: outcome({ responseToolCalls: weather, finishReason: 'length' }) }, MAX)).toMatchObject({ choices: [{ finish_reason: 'length' }] });
    // A text answer stays as it was stored.
    expect(storedResponse(chat, { outcome: outcome({ responseText: 'hi' }) }, MAX)).toMatchObject({ choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] });
  });

  it('is the Responses object with function_call output items for a Responses call', () => {
    expect(storedResponse({ endpoint: 'responses', deployment: { model: 'gpt-4o' } }, { outcome: outcome({ responseText: 'Looking.', responseToolCalls: weather }) }, MAX)).toMatchObject({
      object: 'response',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'Looking.' }] }, { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    });
  });

  it('keeps a huge arguments string within the stored text\'s bound, and nothing of an answer a guardrail refused', () => {
    const huge: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(1_000_000) } }];
    const stored = JSON.stringify(storedResponse(chat, { outcome: outcome({ responseToolCalls: huge }) }, MAX));
    expect(stored.length).toBeLessThan(MAX + 1024);
    expect(stored).toContain('(truncated, 1000000 characters)');
    // Arguments the kept answer had already cut to 64 K characters: the whole length its mark states, not the kept one.
    const kept = keptAnswer(undefined, huge).responseToolCalls;
    expect(JSON.stringify(storedResponse(chat, { outcome: outcome({ responseToolCalls: kept }) }, MAX))).toContain('z...(truncated, 1000000 characters)');
    const refused = storedResponse(chat, { outcome: outcome({ responseToolCalls: weather }), error: new GatewayError('blocked', { status: 400, type: 'guardrail_violation' }) }, MAX);
    expect(JSON.stringify(refused)).not.toContain('get_weather');
  });
});

describe('the spend log response of an answer with reasoning', () => {
  const thought = { reasoning_content: 'Two plus two is four.' };

  it('carries it as the message\'s reasoning_content, as LiteLLM stores the message', () => {
    expect(storedResponse(chat, { outcome: outcome({ responseText: 'It is 4.', responseReasoning: thought }) }, MAX)).toMatchObject({
      choices: [{ message: { role: 'assistant', content: 'It is 4.', reasoning_content: 'Two plus two is four.' } }],
    });
    // OpenRouter's `reasoning`, under LiteLLM's name; none where the answer had none.
    expect(storedResponse(chat, { outcome: outcome({ responseText: 'It is 4.', responseReasoning: { reasoning: 'Sum.' } }) }, MAX)).toMatchObject({ choices: [{ message: { reasoning_content: 'Sum.' } }] });
    expect(storedResponse(chat, { outcome: outcome({ responseText: 'It is 4.' }) }, MAX)).not.toHaveProperty('choices.0.message.reasoning_content');
  });

  it('bounds it with the text and the tool calls, and keeps none of an answer the client never got', () => {
    const long = { reasoning_content: 'r'.repeat(1_000_000) };
    const huge: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(1_000_000) } }];
    const stored = storedResponse(chat, { outcome: outcome({ responseText: 't'.repeat(MAX), responseReasoning: long, responseToolCalls: huge }) }, MAX);
    expect(JSON.stringify(stored).length).toBeLessThan(MAX * 1.5 + 1024);
    expect(stored).toMatchObject({ choices: [{ message: { reasoning_content: `${'r'.repeat(MAX / 4)}...(truncated, 1000000 characters)`, tool_calls: [{ id: 'call_1' }] } }] });
    const refused = storedResponse(chat, { outcome: outcome({ responseText: 'It is 4.', responseReasoning: thought }), error: new GatewayError('blocked', { status: 400, type: 'guardrail_violation' }) }, MAX);
    expect(JSON.stringify(refused)).not.toContain('Two plus');
  });

  it('is only a chat answer\'s: a completion stores its text alone', () => {
    const completion = storedResponse({ endpoint: 'completion', deployment: { model: 'gpt-4o' } }, { outcome: outcome({ responseText: '4', responseReasoning: thought }) }, MAX);
    expect(JSON.stringify(completion)).not.toContain('Two plus');
  });
});
