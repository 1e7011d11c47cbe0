import { describe, expect, it } from 'vitest';
import { KeptChatStream } from './kept-chat-stream.ts';

const head = { id: 'chatcmpl-abc', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-2024-08-06' };
const chunk = (choices: unknown[]) => JSON.stringify({ ...head, choices });
const delta = (d: unknown, finish: string | null = null, index = 0) => ({ index, delta: d, logprobs: null, finish_reason: finish });
const TOOL = /"tool_calls"\s*:\s*\[\s*\{/;

/** The kept part of a stream of chunks, each flagged as the relay flags a tool call's. */
function keep(chunks: string[]) {
  const kept = new KeptChatStream();
  for (const data of chunks) kept.read(data, TOOL.test(data));
  return kept.kept('');
}

describe('KeptChatStream', () => {
  it('keeps the first choice\'s finish reason, tool calls (a second call\'s index is not a second choice) and the chunks\' id', () => {
    const out = keep([
      chunk([delta({ role: 'assistant', content: null })]),
      chunk([delta({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }] })]),
      chunk([delta({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{"x":1}' } }] })]),
      chunk([delta({}, 'tool_calls')]),
    ]);
    expect(out).toEqual({
      responseText: '',
      responseToolCalls: [
        { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } },
        { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{"x":1}' } },
      ],
      finishReason: 'tool_calls',
      streamedAs: { id: 'chatcmpl-abc', created: 1_700_000_000, model: 'gpt-4o-2024-08-06' },
    });
  });

  it('has no finish reason for a stream that stopped before one, and reads the id past Azure\'s opening chunk without choices', () => {
    const out = keep([JSON.stringify({ id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [] }), chunk([delta({ content: 'Hel' })])]);
    expect(out.finishReason).toBeUndefined();
    expect(out.partsLeftOut).toBeUndefined();
    expect(out.streamedAs?.id).toBe('chatcmpl-abc');
  });

  it('marks a stream with a choice past the first (n > 1), text or tool calls', () => {
    expect(keep([chunk([delta({ content: 'a' })]), chunk([delta({ content: 'b' }, null, 1)]), chunk([delta({}, 'stop')])]).partsLeftOut).toBe(true);
    const calls = keep([chunk([delta({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, null, 1)]), chunk([delta({}, 'stop')])]);
    expect(calls).toMatchObject({ partsLeftOut: true, finishReason: 'stop' });
    expect(calls.responseToolCalls).toBeUndefined();
    // Another choice seen only as it finished.
    expect(keep([chunk([delta({ content: 'a' })]), chunk([delta({}, 'stop'), delta({}, 'stop', 1)])]).partsLeftOut).toBe(true);
  });

  it('marks a stream that carried reasoning, not one whose servers send it empty', () => {
    expect(keep([chunk([delta({ reasoning_content: 'think' })]), chunk([delta({}, 'stop')])]).partsLeftOut).toBe(true);
    expect(keep([chunk([delta({ thinking_blocks: [{ type: 'thinking', thinking: 'x', signature: 's' }] })])]).partsLeftOut).toBe(true);
    expect(keep([chunk([delta({ reasoning: 'think' })])]).partsLeftOut).toBe(true);
    expect(keep([chunk([delta({ content: 'hi', reasoning_content: null })]), chunk([delta({ reasoning_content: '' }, 'stop')])]).partsLeftOut).toBeUndefined();
  });
});
