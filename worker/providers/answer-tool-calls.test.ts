import { describe, expect, it } from 'vitest';
import { answerToolCalls, cappedCalls, keptAnswer, type KeptToolCalls, ToolCallJoiner, withCall } from './answer-tool-calls.ts';

describe('ToolCallJoiner', () => {
  it('keeps at most 128 calls of a stream, the later indexes left out', () => {
    const joiner = new ToolCallJoiner();
    for (let index = 0; index < 1000; index++) joiner.add([{ index, id: `call_${index}`, function: { name: 'f', arguments: '{}' } }]);
    // A delta for a call already kept still joins it.
    joiner.add([{ index: 3, function: { arguments: ' ' } }]);
    const { calls, cut } = joiner.calls()!;
    expect(cut).toBe(true);
    expect(calls).toHaveLength(128);
    expect(calls.at(-1)!.id).toBe('call_127');
    expect(calls[3]!.function.arguments).toBe('{} ');
  });

  it('keeps 64 K characters of a call\'s arguments, marked with their whole length', () => {
    const joiner = new ToolCallJoiner();
    joiner.add([{ index: 0, id: 'call_a', function: { name: 'f', arguments: '' } }]);
    for (let i = 0; i < 100; i++) joiner.add([{ index: 0, function: { arguments: 'x'.repeat(1000) } }]);
    const { calls: [call], cut } = joiner.calls()!;
    expect(cut).toBe(true);
    expect(call!.function.arguments).toBe(`${'x'.repeat(64 * 1024)}...(truncated, 100000 characters)`);
    // Reading them leaves the joiner as it was.
    expect(joiner.calls()!.calls[0]!.function.arguments).toBe(call!.function.arguments);
  });

  it('starts no call for a custom tool\'s delta (no `function`), and joins the legacy `function_call` as one call', () => {
    const joiner = new ToolCallJoiner();
    joiner.addDelta({ tool_calls: [{ index: 0, id: 'call_c', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }] });
    expect(joiner.calls()).toBeUndefined();
    joiner.addDelta({ function_call: { name: 'find', arguments: '{"q":' } });
    joiner.addDelta({ function_call: { arguments: '1}' } });
    // Whole, but a custom tool's call was left out: cut.
    expect(joiner.calls()).toEqual({ calls: [{ id: '', type: 'function', function: { name: 'find', arguments: '{"q":1}' } }], cut: true });
  });

  it('keeps apart whole calls sent one a chunk without `index`, each later delta joining the call last started', () => {
    const joiner = new ToolCallJoiner();
    joiner.add([{ id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }]);
    joiner.add([{ id: 'b', type: 'function', function: { name: 'g', arguments: '{"y":' } }]);
    joiner.add([{ function: { arguments: '2}' } }]);
    // The same id again is the same call.
    joiner.add([{ id: 'b', function: { arguments: ' ' } }]);
    expect(joiner.calls()).toEqual({ calls: [
      { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
      { id: 'b', type: 'function', function: { name: 'g', arguments: '{"y":2} ' } },
    ], cut: false });
  });

  it('starts a call from a first delta carrying only its id, and still none for a custom tool\'s', () => {
    const joiner = new ToolCallJoiner();
    joiner.add([{ index: 0, id: 'call_a', type: 'function' }]);
    joiner.add([{ index: 0, function: { name: 'find', arguments: '{}' } }]);
    joiner.add([{ index: 1, id: 'call_c', type: 'custom' }, { index: 2, id: 'call_d', custom: { name: 'sql' } }]);
    joiner.add([{ index: 1, custom: { input: 'SELECT 1' } }]);
    // An id alone, no type and no function yet.
    joiner.add([{ index: 3, id: 'call_e' }]);
    joiner.add([{ index: 3, function: { name: 'look', arguments: '{"q":2}' } }]);
    expect(joiner.calls()).toEqual({ calls: [
      { id: 'call_a', type: 'function', function: { name: 'find', arguments: '{}' } },
      { id: 'call_e', type: 'function', function: { name: 'look', arguments: '{"q":2}' } },
    ], cut: true });
  });
});

describe('cappedCalls and withCall (a stream\'s whole calls, kept as the joiner keeps deltas)', () => {
  const call = (id: string, args = '{}') => ({ id, type: 'function' as const, function: { name: 'f', arguments: args } });

  it('keep the first 128 calls and 64 K characters of each call\'s arguments, marked with their whole length', () => {
    const many = Array.from({ length: 200 }, (_, i) => call(`call_${i}`));
    many[1] = call('call_1', 'y'.repeat(70_000));
    const kept = cappedCalls(many);
    expect(kept.cut).toBe(true);
    expect(kept.calls).toHaveLength(128);
    expect(kept.calls[1]!.function.arguments).toBe(`${'y'.repeat(64 * 1024)}...(truncated, 70000 characters)`);
    expect(kept.calls[2]).toEqual(call('call_2'));
    let list: KeptToolCalls | undefined;
    for (const one of many) list = withCall(list, one);
    expect(list).toEqual(kept);
    expect(cappedCalls([call('a'), call('b')])).toEqual({ calls: [call('a'), call('b')], cut: false });
  });
});

describe('keptAnswer', () => {
  const call = (id: string, args = '{}') => ({ id, type: 'function' as const, function: { name: 'f', arguments: args } });

  it('caps a plain answer\'s whole list as a stream\'s is capped: 128 calls, 64 K characters of arguments, marked cut', () => {
    const many = Array.from({ length: 130 }, (_, i) => call(`call_${i}`, i === 0 ? 'z'.repeat(70_000) : '{}'));
    const plain = keptAnswer('Looking.', many);
    expect(plain.responseText).toBe('Looking.');
    expect(plain.responseToolCalls).toHaveLength(128);
    expect(plain.responseToolCalls![0]!.function.arguments).toBe(`${'z'.repeat(64 * 1024)}...(truncated, 70000 characters)`);
    expect(plain.toolCallsCut).toBe(true);
    // The same rule as a stream's joined calls.
    const joiner = new ToolCallJoiner();
    many.forEach((c, index) => joiner.add([{ index, ...c }]));
    expect(keptAnswer('Looking.', joiner.calls())).toEqual(plain);
    // Within the caps: kept whole, not marked.
    expect(keptAnswer(undefined, [call('a')])).toEqual({ responseToolCalls: [call('a')] });
    expect(keptAnswer('Hi', undefined)).toEqual({ responseText: 'Hi' });
  });

  it('keeps a plain chat answer\'s reasoning from its message where one is given, as it came', () => {
    expect(keptAnswer('It is 4.', undefined, { role: 'assistant', content: 'It is 4.', reasoning_content: 'Two plus two.', reasoning: 'Sum.' }))
      .toEqual({ responseText: 'It is 4.', responseReasoning: { reasoning_content: 'Two plus two.', reasoning: 'Sum.' } });
    expect(keptAnswer('It is 4.', undefined, { role: 'assistant', content: 'It is 4.', reasoning_content: null })).toEqual({ responseText: 'It is 4.' });
    expect(keptAnswer('It is 4.', undefined, undefined)).toEqual({ responseText: 'It is 4.' });
  });

  it('keeps a stream\'s list as it was joined (its cut arguments not cut again)', () => {
    const joiner = new ToolCallJoiner();
    joiner.add([{ index: 0, id: 'call_a', function: { name: 'f', arguments: 'x'.repeat(70_000) } }]);
    const kept = keptAnswer(undefined, joiner.calls());
    expect(kept.responseToolCalls![0]!.function.arguments).toBe(`${'x'.repeat(64 * 1024)}...(truncated, 70000 characters)`);
    expect(kept.toolCallsCut).toBe(true);
  });
});

describe('answerToolCalls', () => {
  it('reads a chat answer\'s first choice\'s calls and a Responses answer\'s function_call items', () => {
    const call = { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } };
    expect(answerToolCalls({ choices: [{ message: { content: null, tool_calls: [call, { id: 'call_c', type: 'custom', custom: { name: 'c', input: '' } }] } }] })).toEqual([call]);
    expect(answerToolCalls({ output: [{ type: 'function_call', call_id: 'call_a', name: 'f', arguments: '{}' }] })).toEqual([call]);
    expect(answerToolCalls({ choices: [{ message: { content: 'Hi' } }] })).toBeUndefined();
    // Kept as a stream's are (a guardrail's masked answer is logged with these).
    const many = Array.from({ length: 130 }, (_, i) => ({ type: 'function_call', call_id: `call_${i}`, name: 'f', arguments: i ? '{}' : 'w'.repeat(70_000) }));
    const kept = answerToolCalls({ output: many })!;
    expect(kept).toHaveLength(128);
    expect(kept[0]!.function.arguments).toBe(`${'w'.repeat(64 * 1024)}...(truncated, 70000 characters)`);
  });
});
