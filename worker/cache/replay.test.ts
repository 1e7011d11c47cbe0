import { describe, expect, it } from 'vitest';
import { AnthropicEventWriter } from '../routes/messages/to-anthropic-stream.ts';
import { replayAsStream } from './replay.ts';

/** The chunks' deltas and finish reasons of a replay. */
function replayed(message: Record<string, unknown>, finish = 'stop') {
  const json = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message, finish_reason: finish }] });
  const text = replayAsStream({ endpoint: 'chat', json }, false);
  return text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: unknown; finish_reason: string | null }[] }).choices[0]!);
}

describe('replayAsStream', () => {
  it('streams every field of a stored message but its role, the reasoning first: thinking blocks, refusal, annotations, audio, function_call', () => {
    const message = {
      role: 'assistant', content: 'It is sunny.', reasoning_content: 'Look it up.', thinking_blocks: [{ type: 'thinking', thinking: 'Look it up.', signature: 'sig' }],
      refusal: null, annotations: [{ type: 'url_citation', url_citation: { url: 'https://x.test', start_index: 0, end_index: 3 } }], audio: { id: 'audio_1', transcript: 'hi' },
    };
    const [first, thought, signed, body, end] = replayed(message);
    expect(first!.delta).toEqual({ role: 'assistant', content: '' });
    const { role: _role, reasoning_content: _reasoning, thinking_blocks: _blocks, ...rest } = message;
    // As the Anthropic translator streams a block: its thinking, then its signature alone.
    expect(thought!.delta).toEqual({ reasoning_content: 'Look it up.' });
    expect(signed!.delta).toEqual({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig' }] });
    expect(body!.delta).toEqual(rest);
    expect(end).toMatchObject({ delta: {}, finish_reason: 'stop' });
    // OpenRouter's and newer vLLM's field, as stored.
    expect(replayed({ role: 'assistant', content: 'Hi', reasoning: 'Greet.' }).slice(1, 3).map((c) => c.delta)).toEqual([{ reasoning: 'Greet.' }, { content: 'Hi' }]);
    expect(replayed({ role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } }, 'function_call')[1]!.delta).toEqual({ function_call: { name: 'f', arguments: '{}' } });
  });

  it('streams Claude\'s thinking block by block, so /v1/messages gives each block its own thinking and signature', () => {
    const blocks = [
      { type: 'thinking', thinking: 'First, think.', signature: 'EqQBsig1' },
      { type: 'thinking', thinking: ' Then check.', signature: 'EqQBsig2' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
    ];
    const message = { role: 'assistant', content: 'Done.', reasoning_content: 'First, think. Then check.', thinking_blocks: blocks };
    const deltas = replayed(message).map((c) => c.delta);
    expect(deltas.slice(1, 7)).toEqual([
      { reasoning_content: 'First, think.' }, { thinking_blocks: [{ ...blocks[0], thinking: '' }] },
      { reasoning_content: ' Then check.' }, { thinking_blocks: [{ ...blocks[1], thinking: '' }] },
      { thinking_blocks: [blocks[2]] }, { content: 'Done.' },
    ]);

    const json = JSON.stringify({ id: 'msg_1', object: 'chat.completion', created: 1, model: 'claude', choices: [{ index: 0, message, finish_reason: 'stop' }] });
    const writer = new AnthropicEventWriter();
    const events = (writer.push(replayAsStream({ endpoint: 'chat', json }, false)) + writer.end()).split('\n\n').filter(Boolean)
      .map((e) => JSON.parse(e.split('\n')[1]!.slice(6)) as { type: string; index: number; content_block?: Record<string, string>; delta?: Record<string, string> });
    // The content blocks as a client of /v1/messages builds them from the events.
    const content: Record<string, string>[] = [];
    for (const e of events) {
      if (e.type === 'content_block_start') content[e.index] = { ...e.content_block };
      if (e.type !== 'content_block_delta') continue;
      const block = content[e.index]!;
      const { type: _type, ...piece } = e.delta!;
      for (const [field, text] of Object.entries(piece)) block[field] = (block[field] ?? '') + text;
    }
    expect(content).toEqual([...blocks, { type: 'text', text: 'Done.' }]);
  });

  it('streams tool calls with their index, and no null content', () => {
    const call = { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } };
    expect(replayed({ role: 'assistant', content: null, tool_calls: [call, { ...call, id: 'call_b' }] }, 'tool_calls')[1]!.delta).toEqual({
      tool_calls: [{ index: 0, ...call }, { index: 1, ...call, id: 'call_b' }],
    });
  });
});
