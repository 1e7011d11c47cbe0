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

  it('keeps the first choice\'s reasoning text in the field it came in (DeepSeek\'s reasoning_content, OpenRouter\'s reasoning)', () => {
    const deepseek = keep([chunk([delta({ role: 'assistant', content: null, reasoning_content: '' })]), chunk([delta({ content: null, reasoning_content: 'Two' })]),
      chunk([delta({ content: null, reasoning_content: ' plus two.' })]), chunk([delta({ content: '4', reasoning_content: null })]), chunk([delta({}, 'stop')])]);
    expect(deepseek).toMatchObject({ responseReasoning: { reasoning_content: 'Two plus two.' }, finishReason: 'stop' });
    expect(deepseek.partsLeftOut).toBeUndefined();
    const openrouter = keep([chunk([delta({ role: 'assistant', content: '', reasoning: 'Hm' })]), chunk([delta({ content: '', reasoning: 'm.' })]), chunk([delta({ content: 'Hi' }, 'stop')])]);
    expect(openrouter.responseReasoning).toEqual({ reasoning: 'Hmm.' });
    // A server that sends both names (vLLM's alias) gets both back; Python servers' spacing.
    expect(keep(['{"id": "c", "choices": [{"index": 0, "delta": {"reasoning": "a", "reasoning_content": "a"}, "finish_reason": null}]}']).responseReasoning).toEqual({ reasoning: 'a', reasoning_content: 'a' });
    expect(keep([chunk([delta({ content: 'hi', reasoning_content: null })]), chunk([delta({ reasoning_content: '' }, 'stop')])])).not.toHaveProperty('responseReasoning');
  });

  it('marks reasoning it does not keep: not as text (OpenRouter\'s reasoning_details, thinking_blocks), another choice\'s, past the cap', () => {
    const details = keep([chunk([delta({ reasoning: 'Hm', reasoning_details: [{ type: 'reasoning.text', text: 'Hm', format: 'unknown', index: 0 }] })]), chunk([delta({ content: 'Hi' }, 'stop')])]);
    expect(details.partsLeftOut).toBe(true);
    // Its text is still kept, for the logs (no cache stores an answer with partsLeftOut).
    expect(details.responseReasoning).toEqual({ reasoning: 'Hm' });
    expect(keep([chunk([delta({ thinking_blocks: [{ type: 'thinking', thinking: 'x', signature: 's' }] })])]).partsLeftOut).toBe(true);
    expect(keep([chunk([delta({ reasoning_content: 'mine' }), delta({ reasoning_content: 'other' }, null, 1)])]).partsLeftOut).toBe(true);
    const long = keep([...Array.from({ length: 5 }, () => chunk([delta({ reasoning_content: 'x'.repeat(60 * 1024) })])), chunk([delta({ content: 'done' }, 'stop')])]);
    expect(long.partsLeftOut).toBe(true);
    expect(long.responseReasoning).toBeUndefined();
  });

  it('keeps the reasoning text of a stream that leaves out logprobs or annotations, for the logs', () => {
    const logprobs = { logprobs: { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }], refusal: null } };
    const kept = keep([chunk([{ ...delta({ content: 'Hi' }), ...logprobs }]), chunk([delta({ reasoning_content: 'Say ' })]), chunk([delta({ reasoning_content: 'hi.' })]), chunk([delta({}, 'stop')])]);
    expect(kept).toMatchObject({ partsLeftOut: true, responseReasoning: { reasoning_content: 'Say hi.' } });
  });

  it('marks a completion stream whose reasoning came beside its text, outside a delta', () => {
    const completion = (choice: object) => JSON.stringify({ id: 'cmpl-abc', object: 'text_completion', created: 1, model: 'qwen3', choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }] });
    const reasoned = keep([completion({ text: '', reasoning_content: 'Count up.' }), completion({ text: '1 2 3', finish_reason: 'stop' })]);
    expect(reasoned).toMatchObject({ partsLeftOut: true, finishReason: 'stop' });
    expect(reasoned.responseReasoning).toBeUndefined();
    expect(keep([completion({ text: '1 2 3', finish_reason: 'stop' })]).partsLeftOut).toBeUndefined();
    expect(keep([chunk([delta({ content: 'Hi' })]), JSON.stringify({ id: 'c', reasoning_content: 'aside' }), chunk([delta({}, 'stop')])]).partsLeftOut).toBe(true);
  });

  it('marks a stream whose answer is not only its content: a refusal, audio, annotations, logprobs, content parts', () => {
    const finished = (d: unknown, extra: object = {}) => keep([chunk([{ ...delta(d), ...extra }]), chunk([delta({}, 'stop')])]).partsLeftOut;
    expect(finished({ role: 'assistant', content: null, refusal: "I'm sorry, I can't help with that." })).toBe(true);
    expect(finished({ audio: { id: 'audio_abc', transcript: 'Hi', expires_at: 1_700_003_600 } })).toBe(true);
    expect(finished({ content: 'See', annotations: [{ type: 'url_citation', url_citation: { url: 'https://example.com', start_index: 0, end_index: 3, title: 'E' } }] })).toBe(true);
    expect(finished({ content: 'Hi' }, { logprobs: { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }], refusal: null } })).toBe(true);
    expect(finished({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'hmm' }] }] })).toBe(true);
    // Python servers' spacing.
    expect(keep(['{"id": "c", "choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "a"}]}, "finish_reason": null}]}']).partsLeftOut).toBe(true);
    // The nulls and empties OpenAI sends in a plain answer's chunks.
    expect(finished({ role: 'assistant', content: '', refusal: null, annotations: [] }, { logprobs: null })).toBeUndefined();
  });

  it('keeps the real finish reason past the empty one some servers send after it', () => {
    const out = keep([chunk([delta({ content: 'Hi' }, '')]), chunk([delta({}, 'stop')]), chunk([delta({}, '')])]);
    expect(out.finishReason).toBe('stop');
    expect(keep([chunk([delta({ content: 'Hi' })]), chunk([delta({}, '')])]).finishReason).toBeUndefined();
  });
});
