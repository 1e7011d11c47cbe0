import { describe, expect, it } from 'vitest';
import type { AnswerToolCall } from '../providers/types.ts';
import { boundedChatParts, boundedToolCalls, chatMessage, responsesOutput, toolCallBudget } from './answer-tool-calls.ts';

const call = (id: string, name: string, args: string): AnswerToolCall => ({ id, type: 'function', function: { name, arguments: args } });

describe('an answer\'s tool calls as the logs show them', () => {
  it('keep calls that fit whole, cut a huge arguments string with a marker and leave out the calls past the budget, never the first', () => {
    const small = [call('call_1', 'get_weather', '{"city":"Paris"}'), call('call_2', 'get_time', '{}')];
    expect(boundedToolCalls(small, 1000)).toEqual(small);
    const huge = [call('call_1', 'write_file', `{"text":"${'x'.repeat(100_000)}"}`), call('call_2', 'get_time', '{}')];
    const kept = boundedToolCalls(huge, 1000);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.function.name).toBe('write_file');
    expect(kept[0]!.function.arguments).toMatch(/^\{"text":"x+\.\.\.\(truncated, 100011 characters\)$/);
    expect(JSON.stringify(kept).length).toBeLessThan(1100);
    // However small the budget, what the answer called is shown.
    expect(boundedToolCalls(huge, 10)).toEqual([{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: '...(truncated, 100011 characters)' } }]);
    expect(toolCallBudget(1000, 900)).toBe(250);
  });

  it('state the whole length of arguments the kept answer cut (its mark after 64 K characters), and only of those', () => {
    const keptCut = `${'x'.repeat(64 * 1024)}...(truncated, 100000 characters)`;
    expect(boundedToolCalls([call('call_1', 'f', keptCut)], 1000)[0]!.function.arguments).toMatch(/^x+\.\.\.\(truncated, 100000 characters\)$/);
    expect(boundedToolCalls([call('call_1', 'f', keptCut)], 100_000)[0]!.function.arguments).toBe(keptCut);
    // Arguments left a budget (after the id, name and 64 of overhead) the kept part fits but its mark does not:
    // no more of them than the budget, the whole length still stated; a budget they fit takes them whole.
    const budgetOf = (left: number) => boundedToolCalls([call('call_1', 'f', keptCut)], left + 'call_1f'.length + 64)[0]!.function.arguments;
    expect(budgetOf(64 * 1024 + 10)).toBe(keptCut);
    expect(budgetOf(64 * 1024 - 1)).toBe(`${'x'.repeat(64 * 1024 - 1)}...(truncated, 100000 characters)`);
    expect(budgetOf(keptCut.length)).toBe(keptCut);
    // The same words elsewhere in an answer's arguments are its own: their length is what is stated.
    const own = `${'x'.repeat(2000)}...(truncated, 9 characters)`;
    expect(boundedToolCalls([call('call_1', 'f', own)], 1000)[0]!.function.arguments).toMatch(/\.\.\.\(truncated, 2028 characters\)$/);
  });

  it('make the chat message OpenAI\'s (content null beside tool calls) and the Responses output its function_call items', () => {
    const calls = [call('call_1', 'get_weather', '{"city":"Paris"}')];
    expect(chatMessage('', calls)).toEqual({ role: 'assistant', content: null, tool_calls: calls });
    expect(chatMessage('hi', undefined)).toEqual({ role: 'assistant', content: 'hi' });
    expect(responsesOutput('', calls)).toEqual([{ type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(responsesOutput('ok', calls)[0]).toEqual({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok' }] });
  });

  it('share one budget beside a chat answer\'s text: the reasoning what the text leaves, the tool calls what both leave, a quarter at least', () => {
    const huge = [call('call_1', 'f', 'a'.repeat(100_000))];
    const parts = boundedChatParts('t'.repeat(3000), huge, 'r'.repeat(100_000), 4096);
    expect(parts.reasoning).toBe(`${'r'.repeat(1096)}...(truncated, 100000 characters)`);
    expect(parts.calls).toEqual(boundedToolCalls(huge, 1024));
    // A text past the budget leaves each a quarter; what fits is kept whole; nothing where the answer had none.
    expect(boundedChatParts('t'.repeat(10_000), undefined, 'r'.repeat(2000), 4096).reasoning).toBe(`${'r'.repeat(1024)}...(truncated, 2000 characters)`);
    expect(boundedChatParts(undefined, [call('call_1', 'f', '{}')], 'Sum.', 4096)).toEqual({ reasoning: 'Sum.', calls: [call('call_1', 'f', '{}')] });
    expect(boundedChatParts('Hi', undefined, undefined, 4096)).toEqual({});
  });
});
