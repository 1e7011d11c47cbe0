import { describe, expect, it } from 'vitest';
import { cappedCalls, keptAnswer, ToolCallJoiner, withCall } from '../providers/answer-tool-calls.ts';
import type { AnswerToolCall, CallOutcome } from '../providers/types.ts';
import { streamedAnswer } from './streamed-answer.ts';

const usage = { promptTokens: 12, completionTokens: 7, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
const weather: AnswerToolCall = { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
const time: AnswerToolCall = { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } };

/** A streamed chat answer's outcome as a relay settles it: the joiner's calls kept beside the text, finished with `tool_calls`. */
function streamed(text: string, joiner: ToolCallJoiner, extra: Partial<CallOutcome> = {}): CallOutcome {
  return { usage, finishedAt: 0, ...keptAnswer(text, joiner.calls()), toolCalls: true, finishReason: 'tool_calls', ...extra };
}

/** The OpenAI deltas a provider streams `calls` in: id and name first, the arguments in two pieces. */
function joined(calls: AnswerToolCall[]): ToolCallJoiner {
  const joiner = new ToolCallJoiner();
  calls.forEach((call, index) => {
    const half = Math.floor(call.function.arguments.length / 2);
    joiner.addDelta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
    joiner.addDelta({ tool_calls: [{ index, function: { arguments: call.function.arguments.slice(0, half) } }] });
    joiner.addDelta({ tool_calls: [{ index, function: { arguments: call.function.arguments.slice(half) } }] });
  });
  return joiner;
}

describe('streamedAnswer', () => {
  it('assembles a streamed answer of tool calls: message.tool_calls, content null, finish_reason tool_calls', () => {
    const json = streamedAnswer('chat', 'gpt-4o', streamed('', joined([weather, time])));
    expect(JSON.parse(json!)).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [weather, time] }, logprobs: null, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    });
  });

  it('keeps the text said beside the calls', () => {
    const json = streamedAnswer('chat', 'gpt-4o', streamed('Checking.', joined([weather])))!;
    expect(JSON.parse(json).choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Checking.', tool_calls: [weather] }, finish_reason: 'tool_calls' });
  });

  it('still stores a plain streamed text answer with finish_reason stop', () => {
    const json = streamedAnswer('chat', 'gpt-4o', { usage, finishedAt: 0, responseText: 'hello', finishReason: 'stop' });
    expect(JSON.parse(json!).choices[0]).toMatchObject({ message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' });
  });

  it('stores the answer under the id, created and model its chunks carried, else fresh ones and the deployment\'s model', () => {
    const streamedAs = { id: 'chatcmpl-first', created: 1_700_000_123, model: 'gpt-4o-2024-08-06' };
    expect(JSON.parse(streamedAnswer('chat', 'gpt-4o', streamed('', joined([weather]), { streamedAs }))!)).toMatchObject(streamedAs);
    const fresh = JSON.parse(streamedAnswer('completion', 'davinci', { usage, finishedAt: 0, responseText: 'hi', finishReason: 'stop' })!);
    expect(fresh).toMatchObject({ id: expect.stringMatching(/^cmpl-/), model: 'davinci', object: 'text_completion' });
  });

  it('stores a forced call that finished with stop as it finished', () => {
    const json = streamedAnswer('chat', 'gpt-4o', streamed('', joined([weather]), { finishReason: 'stop' }));
    expect(JSON.parse(json!).choices[0]).toMatchObject({ message: { tool_calls: [weather] }, finish_reason: 'stop' });
  });

  it('stores none that did not finish with stop or tool_calls: cut at max_tokens, filtered, or ended without a finish reason', () => {
    for (const finishReason of ['length', 'content_filter', 'function_call', undefined]) {
      expect(streamedAnswer('chat', 'gpt-4o', { usage, finishedAt: 0, responseText: 'a cut answ', finishReason })).toBeUndefined();
      expect(streamedAnswer('completion', 'gpt-4o', { usage, finishedAt: 0, responseText: 'a cut answ', finishReason })).toBeUndefined();
      expect(streamedAnswer('chat', 'gpt-4o', streamed('', joined([weather]), { finishReason }))).toBeUndefined();
    }
    // Text that says it finished with tool_calls but kept no call is not the whole answer.
    expect(streamedAnswer('chat', 'gpt-4o', { usage, finishedAt: 0, responseText: 'hm', finishReason: 'tool_calls' })).toBeUndefined();
  });

  it('stores an answer other servers finished with their own word for stop (eos, eos_token, end_turn, COMPLETE) as stop; never error or one not known', () => {
    for (const finishReason of ['eos', 'eos_token', 'end_turn', 'stop_sequence', 'COMPLETE']) {
      const json = streamedAnswer('chat', 'tgi', { usage, finishedAt: 0, responseText: 'done', finishReason });
      expect(JSON.parse(json!).choices[0]).toMatchObject({ message: { content: 'done' }, finish_reason: 'stop' });
      expect(JSON.parse(streamedAnswer('completion', 'tgi', { usage, finishedAt: 0, responseText: 'done', finishReason })!).choices[0].finish_reason).toBe('stop');
    }
    expect(JSON.parse(streamedAnswer('chat', 'x', streamed('', joined([weather]), { finishReason: 'tool_use' }))!).choices[0].finish_reason).toBe('tool_calls');
    for (const finishReason of ['error', 'ERROR', 'abort', 'MAX_TOKENS', 'constructor']) {
      expect(streamedAnswer('chat', 'tgi', { usage, finishedAt: 0, responseText: 'done', finishReason })).toBeUndefined();
    }
  });

  it('stores the reasoning kept beside the text in the fields it streamed in, and the reasoning tokens the usage had', () => {
    const reasoned = { usage: { ...usage, reasoningTokens: 5 }, finishedAt: 0, responseText: '4', finishReason: 'stop', responseReasoning: { reasoning_content: 'Two plus two.' } };
    expect(JSON.parse(streamedAnswer('chat', 'deepseek-reasoner', reasoned)!)).toMatchObject({
      choices: [{ message: { role: 'assistant', content: '4', reasoning_content: 'Two plus two.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, completion_tokens_details: { reasoning_tokens: 5 } },
    });
    const blocks = [{ type: 'thinking' as const, thinking: 'Weather first.', signature: 'EqQBsig' }];
    const claude = streamed('', joined([weather]), { responseReasoning: { reasoning_content: 'Weather first.', thinking_blocks: blocks } });
    expect(JSON.parse(streamedAnswer('chat', 'claude', claude)!).choices[0].message).toEqual({
      role: 'assistant', content: null, tool_calls: [weather], reasoning_content: 'Weather first.', thinking_blocks: blocks,
    });
    // No reasoning tokens reported: no details made up.
    expect(JSON.parse(streamedAnswer('chat', 'x', { ...reasoned, usage })!).usage).not.toHaveProperty('completion_tokens_details');
  });

  it('stores none that carried what it does not keep: another choice (n > 1), reasoning past the cap or unsigned thinking, a completion\'s reasoning', () => {
    expect(streamedAnswer('chat', 'gpt-4o', { usage, finishedAt: 0, responseText: 'ab', finishReason: 'stop', partsLeftOut: true })).toBeUndefined();
    expect(streamedAnswer('chat', 'claude', streamed('', joined([weather]), { partsLeftOut: true }))).toBeUndefined();
    // A completion's choice has no field for reasoning: stored without it, it would not be what the client got.
    expect(streamedAnswer('completion', 'qwen3', { usage, finishedAt: 0, responseText: '4', finishReason: 'stop', responseReasoning: { reasoning_content: 'Two plus two.' } })).toBeUndefined();
  });

  it('stores none when the joiner cut a call\'s arguments or left a call out (past 128, a custom tool\'s)', () => {
    const long = { ...weather, function: { ...weather.function, arguments: JSON.stringify({ city: 'x'.repeat(70_000) }) } };
    const cut = streamed('', joined([long]));
    expect(cut.toolCallsCut).toBe(true);
    expect(streamedAnswer('chat', 'gpt-4o', cut)).toBeUndefined();

    const many = joined(Array.from({ length: 129 }, (_, i) => ({ ...weather, id: `call_${i}` })));
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', many))).toBeUndefined();
    // Exactly 128 calls are all there: stored.
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', joined(Array.from({ length: 128 }, (_, i) => ({ ...weather, id: `call_${i}` })))))).toBeDefined();

    const custom = joined([weather]);
    custom.addDelta({ tool_calls: [{ index: 1, id: 'call_c', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }] });
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', custom))).toBeUndefined();
  });

  it('marks the Responses lists capped alike (cappedCalls, withCall)', () => {
    expect(keptAnswer(undefined, cappedCalls([weather, time])).toolCallsCut).toBeUndefined();
    expect(keptAnswer(undefined, cappedCalls(Array.from({ length: 129 }, () => weather))).toolCallsCut).toBe(true);
    let list = withCall(undefined, weather);
    expect(keptAnswer(undefined, list).toolCallsCut).toBeUndefined();
    list = withCall(list, { ...time, function: { ...time.function, arguments: 'y'.repeat(70_000) } });
    expect(keptAnswer(undefined, list).toolCallsCut).toBe(true);
  });

  it('stores none for a failed or abandoned stream, a legacy function_call, arguments cut short, or calls it did not keep', () => {
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', joined([weather]), { aborted: true }))).toBeUndefined();
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', joined([weather]), { error: new Error('broke') as never }))).toBeUndefined();

    const legacy = new ToolCallJoiner();
    legacy.addDelta({ function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(legacy.calls()!.calls).toHaveLength(1);
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', legacy))).toBeUndefined();

    // finish_reason length: the arguments stop mid-JSON.
    const short = { ...weather, function: { ...weather.function, arguments: '{"city":"Pa' } };
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', joined([short])))).toBeUndefined();

    // Flagged, but nothing kept (a call that keeps no text keeps no calls).
    expect(streamedAnswer('chat', 'gpt-4o', { usage, finishedAt: 0, responseText: '', toolCalls: true })).toBeUndefined();
    expect(streamedAnswer('completion', 'gpt-4o', streamed('', joined([weather])))).toBeUndefined();
  });

  it('stores a call with no arguments as it came when the answer finished, none when it was cut at max_tokens', () => {
    const bare = { ...time, function: { name: 'now', arguments: '' } };
    expect(JSON.parse(streamedAnswer('chat', 'gpt-4o', streamed('', joined([bare])))!).choices[0].message.tool_calls).toEqual([bare]);
    expect(streamedAnswer('chat', 'gpt-4o', streamed('', joined([bare]), { finishReason: 'length' }))).toBeUndefined();
  });
});
