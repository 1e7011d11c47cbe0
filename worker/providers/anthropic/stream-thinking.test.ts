import { describe, expect, it } from 'vitest';
import { AnthropicStreamTranslator, type StreamTranslatorOptions } from './stream-translator.ts';

const options: StreamTranslatorOptions = { clientWantsUsage: false, jsonMode: false, created: 1_700_000_000, secrets: [] };

/** Anthropic's events on the wire (`event:` and `data:` lines), translated whole. */
function translate(events: Record<string, unknown>[], opts = options): AnthropicStreamTranslator {
  const translator = new AnthropicStreamTranslator(opts);
  translator.push(events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
  translator.end();
  return translator;
}

/** A content block's start, its deltas and its stop, at `index`. */
const block = (index: number, start: Record<string, unknown>, deltas: Record<string, unknown>[]) => [
  { type: 'content_block_start', index, content_block: start },
  ...deltas.map((delta) => ({ type: 'content_block_delta', index, delta })),
  { type: 'content_block_stop', index },
];
const start = { type: 'message_start', message: { id: 'msg_t', model: 'claude-sonnet-4-5-20250929', usage: { input_tokens: 9, output_tokens: 1 } } };
const end = [{ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 30 } }, { type: 'message_stop' }];

// The thinking a call that keeps its answer keeps for the cache (`keptThinking`), whole or not at all (`partsLeftOut`).
describe('AnthropicStreamTranslator thinking', () => {
  it('keeps thinking blocks whole with their signatures, redacted ones with their data, in order (keepText only)', () => {
    const answer = (signed: boolean) => [
      start,
      ...block(0, { type: 'thinking', thinking: '', signature: '' }, [{ type: 'thinking_delta', thinking: 'First, ' }, { type: 'thinking_delta', thinking: 'think.' },
        ...(signed ? [{ type: 'signature_delta', signature: 'EqQBsig1' }] : [])]),
      ...block(1, { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' }, []),
      ...block(2, { type: 'thinking', thinking: '', signature: '' }, [{ type: 'thinking_delta', thinking: ' Then answer.' }, { type: 'signature_delta', signature: 'EqQBsig2' }]),
      ...block(3, { type: 'text', text: '' }, [{ type: 'text_delta', text: 'Done.' }]),
      ...end,
    ];
    const kept = translate(answer(true), { ...options, keepText: true });
    expect(kept.keptThinking.responseReasoning).toEqual({
      reasoning_content: 'First, think. Then answer.',
      thinking_blocks: [
        { type: 'thinking', thinking: 'First, think.', signature: 'EqQBsig1' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
        { type: 'thinking', thinking: ' Then answer.', signature: 'EqQBsig2' },
      ],
    });
    expect(kept.keptThinking.partsLeftOut).toBeUndefined();
    const unsigned = translate(answer(false), { ...options, keepText: true });
    expect(unsigned.keptThinking.partsLeftOut).toBe(true);
    expect(unsigned.keptThinking.responseReasoning).toBeUndefined();
    expect(translate(answer(true)).keptThinking.responseReasoning).toBeUndefined();
  });

  it('keeps no thinking past the cap (thinking, signatures and redacted data together)', () => {
    const long = 'x'.repeat(100 * 1024);
    const translator = translate([
      start,
      ...block(0, { type: 'thinking', thinking: '', signature: '' }, [{ type: 'thinking_delta', thinking: long }, { type: 'thinking_delta', thinking: long }, { type: 'signature_delta', signature: 'EqQBsig' }]),
      ...block(1, { type: 'redacted_thinking', data: long }, []),
      ...end,
    ], { ...options, keepText: true });
    expect(translator.keptThinking.partsLeftOut).toBe(true);
    expect(translator.keptThinking.responseReasoning).toBeUndefined();
  });
});
