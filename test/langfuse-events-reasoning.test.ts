import { describe, expect, it } from 'vitest';
import { fitItem } from '../worker/telemetry/langfuse/packing.ts';
import type { GenerationBody, IngestionEvent } from '../worker/telemetry/langfuse/types.ts';
import { build, callEvent } from './support/langfuse-events.ts';

// A reasoning model's answer: LiteLLM logs the choice's message dict, its reasoning_content beside the content.

const outcome = { responseText: 'It is 4.', responseReasoning: { reasoning_content: 'Two plus two is four.' } };

describe('the Langfuse events of an answer with reasoning', () => {
  it('log it as the message\'s reasoning_content, on the generation and the trace', () => {
    const { trace, generation } = build(callEvent({ outcome }));
    expect(generation.output).toEqual({ role: 'assistant', content: 'It is 4.', reasoning_content: 'Two plus two is four.' });
    expect(trace?.output).toEqual(generation.output);
    expect(build(callEvent({ outcome: { responseText: 'It is 4.' } })).generation.output).toEqual({ role: 'assistant', content: 'It is 4.' });
  });

  it('show nothing of it with message logging off, by config, by the request, or by the callback', () => {
    const runs = [
      build(callEvent({ outcome }), { turnOffMessageLogging: true }),
      build(callEvent({ outcome, body: { model: 'gpt-4o', messages: [], turn_off_message_logging: true } })),
      build(callEvent({ outcome }), { callbackMessageLoggingOff: true }),
    ];
    for (const { events, generation } of runs) {
      expect(generation.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
      expect(JSON.stringify(events)).not.toMatch(/Two plus|reasoning_content/);
    }
  });

  it('cut a long one to 16 K characters, marked, so the prompt and the text go whole', () => {
    const prompt = 'p'.repeat(20_000);
    const long = { responseText: 'It is 4.', responseReasoning: { reasoning_content: 'r'.repeat(47_000) } };
    const { events } = build(callEvent({ body: { model: 'gpt-4o', messages: [{ role: 'user', content: prompt }] }, outcome: long }));
    const fitted = fitItem({ callback: 'langfuse', callId: 'call-1', destination: { source: 'env' }, events })!;
    const generation = (JSON.parse(`[${fitted.json}]`) as IngestionEvent[]).find((e) => e.type === 'generation-create')!.body as GenerationBody;
    expect(generation.input).toEqual({ messages: [{ role: 'user', content: prompt }] });
    expect(generation.output).toEqual({ role: 'assistant', content: 'It is 4.', reasoning_content: `${'r'.repeat(16 * 1024)}...(truncated, 47000 characters)` });
  });
});
