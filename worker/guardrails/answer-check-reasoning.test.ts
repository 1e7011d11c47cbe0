import { describe, expect, it } from 'vitest';
import type { CallOutcome, ProviderAnswer } from '../providers/types.ts';
import { guardedAnswer } from './answer-check.ts';
import type { GuardrailConfig } from './schema.ts';
import { SERVICES } from './services.ts';

// An answer's reasoning is never read by a guardrail, so never masked: where a guardrail that may mask read the
// answer, the logs must not keep it, masked or not; one that only refuses leaves it.

SERVICES.generic_guardrail_api = async (_g, input) => {
  const texts = input.texts.map((t) => t.text.replaceAll('Alice', '<PERSON>'));
  return texts.some((t, i) => t !== input.texts[i]!.text) ? { action: 'mask', texts } : { action: 'allow' };
};
SERVICES.openai_moderation = async () => ({ action: 'allow' });
const guard = [{ guardrail_name: 'pii', litellm_params: { guardrail: 'generic_guardrail_api', mode: 'post_call' } }] as unknown as GuardrailConfig[];
const moderation = [{ guardrail_name: 'mod', litellm_params: { guardrail: 'openai_moderation', mode: 'post_call' } }] as unknown as GuardrailConfig[];
const usage = { promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
const thought = { reasoning_content: 'The user is Alice, so greet Alice.' };

function answerOf(body: string | ReadableStream<Uint8Array>, kept: Partial<CallOutcome>): ProviderAnswer {
  return { status: 200, contentType: typeof body === 'string' ? 'application/json' : 'text/event-stream', apiBase: '', body, outcome: Promise.resolve({ usage, finishedAt: 0, ...kept }) };
}
const plain = (content: string) => JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content, ...thought } }] });
const stream = (content: string) => new Response(
  [{ reasoning_content: thought.reasoning_content }, { content }].map((delta) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`).join('') + 'data: [DONE]\n\n',
).body!;

describe('guardedAnswer: the kept reasoning', () => {
  it('is dropped where the answer was masked, plain or streamed', async () => {
    for (const body of [plain('Hi Alice'), stream('Hi Alice')]) {
      const { answer } = await guardedAnswer(answerOf(body, { responseText: 'Hi Alice', responseReasoning: thought }), guard, {}, 'c', [], 5000);
      if (answer.body instanceof ReadableStream) await new Response(answer.body).text();
      const outcome = await answer.outcome;
      expect(outcome.responseText).toBe('Hi <PERSON>');
      expect(outcome.responseReasoning).toBeUndefined();
    }
  });

  it('is dropped where a guardrail that may mask read the answer and masked nothing of it (the reasoning names Alice)', async () => {
    for (const body of [plain('Hi Bob'), stream('Hi Bob')]) {
      const { answer } = await guardedAnswer(answerOf(body, { responseText: 'Hi Bob', responseReasoning: thought }), guard, {}, 'c', [], 5000);
      const outcome = await answer.outcome;
      expect(outcome.responseText).toBe('Hi Bob');
      expect(outcome.responseReasoning).toBeUndefined();
    }
  });

  it('is kept where only a guardrail that never masks (openai_moderation) read the answer', async () => {
    for (const body of [plain('Hi Bob'), stream('Hi Bob')]) {
      const { answer } = await guardedAnswer(answerOf(body, { responseText: 'Hi Bob', responseReasoning: thought }), moderation, {}, 'c', [], 5000);
      expect((await answer.outcome).responseReasoning).toEqual(thought);
    }
  });
});
