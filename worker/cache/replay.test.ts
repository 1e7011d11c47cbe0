import { describe, expect, it } from 'vitest';
import { replayAsStream } from './replay.ts';

/** The chunks' deltas and finish reasons of a replay. */
function replayed(message: Record<string, unknown>, finish = 'stop') {
  const json = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message, finish_reason: finish }] });
  const text = replayAsStream({ endpoint: 'chat', json }, false);
  return text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: unknown; finish_reason: string | null }[] }).choices[0]!);
}

describe('replayAsStream', () => {
  it('streams every field of a stored message but its role: reasoning, thinking blocks, refusal, annotations, audio, function_call', () => {
    const message = {
      role: 'assistant', content: 'It is sunny.', reasoning_content: 'Look it up.', thinking_blocks: [{ type: 'thinking', thinking: 'Look it up.', signature: 'sig' }],
      refusal: null, annotations: [{ type: 'url_citation', url_citation: { url: 'https://x.test', start_index: 0, end_index: 3 } }], audio: { id: 'audio_1', transcript: 'hi' },
    };
    const [first, body, end] = replayed(message);
    expect(first!.delta).toEqual({ role: 'assistant', content: '' });
    const { role: _role, ...rest } = message;
    expect(body!.delta).toEqual(rest);
    expect(end).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(replayed({ role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } }, 'function_call')[1]!.delta).toEqual({ function_call: { name: 'f', arguments: '{}' } });
  });

  it('streams tool calls with their index, and no null content', () => {
    const call = { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } };
    expect(replayed({ role: 'assistant', content: null, tool_calls: [call, { ...call, id: 'call_b' }] }, 'tool_calls')[1]!.delta).toEqual({
      tool_calls: [{ index: 0, ...call }, { index: 1, ...call, id: 'call_b' }],
    });
  });
});
