import { describe, expect, it } from 'vitest';
import { rewriteIds, rewriteIdStream } from './rewrite.ts';

const shown = (id: string) => `intr_${id}`;

async function through(pieces: Uint8Array[]): Promise<string> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
  return new Response(source.pipeThrough(rewriteIdStream(shown))).text();
}

describe('interaction ids rewritten', () => {
  it('in an answer: the interaction and the one it continued, nothing else', () => {
    const answer = { id: 'v1_a', object: 'interaction', previous_interaction_id: 'v1_p', steps: [{ type: 'function_call', id: 'call_1' }] };
    expect(rewriteIds(answer, shown)).toBe(true);
    expect(answer).toEqual({ id: 'intr_v1_a', object: 'interaction', previous_interaction_id: 'intr_v1_p', steps: [{ type: 'function_call', id: 'call_1' }] });
    expect(rewriteIds({ index: 0, step: { type: 'function_call', id: 'call_2' } }, shown)).toBe(false);
  });

  it('in a stream cut anywhere, other lines byte for byte', async () => {
    const text = 'event: interaction.created\r\ndata: {"interaction":{"id":"v1_s","status":"in_progress"},"event_type":"interaction.created"}\r\n\r\n'
      + 'event: step.delta\ndata: {"index":0,"delta":{"type":"text","text":"ünï"},"event_type":"step.delta"}\n\n'
      + 'event: interaction.status_update\ndata: {"interaction_id":"v1_s","status":"completed","event_type":"interaction.status_update"}\n\n'
      + 'event: done\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    // Three-byte pieces split lines, CRLFs and multi-byte characters alike.
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) pieces.push(bytes.slice(i, i + 3));
    const out = await through(pieces);
    expect(out).toBe(text.replaceAll('"id":"v1_s"', '"id":"intr_v1_s"').replaceAll('"interaction_id":"v1_s"', '"interaction_id":"intr_v1_s"'));
  });
});
