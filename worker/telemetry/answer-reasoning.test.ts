import { describe, expect, it } from 'vitest';
import { jsonOutcome } from '../providers/openai-compatible/answers.ts';
import { relayOpenAIStream } from '../providers/openai-compatible/sse-stream.ts';
import type { AnswerReasoning, ProviderCall } from '../providers/types.ts';
import { buildInferenceSpan } from './otel/openinference.ts';
import { callWith, options as spanOptions } from './otel/span-call.fixture.ts';
import { buildSpan } from './otel/spans.ts';
import { buildStandardPayload, type StandardCall, type StandardOptions } from './standard/payload.ts';

// A reasoning model's thinking in the logged assistant message: `reasoning_content`, as LiteLLM logs it.

const none = { get: () => null, forEach: () => undefined };
const thought: AnswerReasoning = { reasoning_content: 'Two plus two is four.' };

function call(over: Partial<StandardCall> = {}): StandardCall {
  return {
    record: {
      request_id: 'call-1', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.001, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: null,
      model: 'deepseek-reasoner', model_id: 'dep-1', model_group: 'reasoner', custom_llm_provider: 'deepseek', api_base: 'https://api.deepseek.com',
      metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
    },
    endpoint: 'chat', body: { model: 'reasoner', messages: [{ role: 'user', content: '2+2?' }] }, stream: false, headers: none,
    outcome: { responseText: 'It is 4.', responseReasoning: thought },
    ...over,
  };
}
const options = (over: Partial<StandardOptions> = {}): StandardOptions => ({
  turnOffMessageLogging: false, callbackMessageLoggingOff: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 16 * 1024, ...over,
});
const messageOf = (p: Record<string, unknown>) => (p.response as { choices: { message: Record<string, unknown> }[] }).choices[0]!.message;

describe('the StandardLoggingPayload of an answer with reasoning', () => {
  it('carries it in the message as reasoning_content, from a plain answer and a stream alike (OpenRouter\'s `reasoning` too)', async () => {
    const answer = { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'It is 4.', reasoning: 'Two plus two is four.' } }] };
    const plain = jsonOutcome(new TextEncoder().encode(JSON.stringify(answer)).buffer as ArrayBuffer, { endpoint: 'chat', keepText: true, promptTokenEstimate: 3, body: {} } as unknown as ProviderCall);
    const chunks = [{ reasoning_content: 'Two plus ' }, { reasoning_content: 'two is four.' }, { content: 'It is 4.' }]
      .map((delta) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`).join('');
    const relayed = relayOpenAIStream(new Response(`${chunks}data: [DONE]\n\n`).body!, {
      clientWantsUsage: false, usageInjected: false, promptTokenEstimate: 3, keepText: true, label: 'OpenAI', provider: 'openai',
    });
    await new Response(relayed.body).text();
    for (const outcome of [plain, await relayed.outcome]) {
      expect(messageOf(buildStandardPayload(call({ outcome }), options()))).toEqual({ role: 'assistant', content: 'It is 4.', reasoning_content: 'Two plus two is four.' });
    }
  });

  it('keeps none for a call that does not keep its text', () => {
    const answer = { choices: [{ index: 0, message: { role: 'assistant', content: 'It is 4.', reasoning_content: 'Two plus two is four.' } }] };
    const outcome = jsonOutcome(new TextEncoder().encode(JSON.stringify(answer)).buffer as ArrayBuffer, { endpoint: 'chat', keepText: false, promptTokenEstimate: 3, body: {} } as unknown as ProviderCall);
    expect(outcome.responseReasoning).toBeUndefined();
  });

  it('has no reasoning_content where the answer had none', () => {
    expect(messageOf(buildStandardPayload(call({ outcome: { responseText: 'It is 4.' } }), options()))).toEqual({ role: 'assistant', content: 'It is 4.' });
  });

  it('shows nothing of it with message logging off, for a counts-only logger or a failure', () => {
    for (const off of [options({ turnOffMessageLogging: true }), options({ callbackMessageLoggingOff: true })]) {
      const p = buildStandardPayload(call(), off);
      expect(messageOf(p)).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
      expect(JSON.stringify(p)).not.toMatch(/Two plus|reasoning_content/);
    }
    expect(buildStandardPayload(call({ body: { model: 'reasoner', messages: [], turn_off_message_logging: true } }), options()).response).not.toHaveProperty('choices.0.message.reasoning_content');
    expect(buildStandardPayload(call(), options({ countsOnly: true })).response).toBeNull();
    expect(buildStandardPayload(call({ error: { message: 'boom', type: 'api_error', status: 500 } }), options()).response).toBeNull();
  });

  it('counts it in the answer\'s budget: cut and marked past what the text leaves, the tool calls after it', () => {
    const long = { reasoning_content: 'r'.repeat(100_000) };
    const calls = [{ id: 'call_1', type: 'function' as const, function: { name: 'add', arguments: 'a'.repeat(100_000) } }];
    const p = buildStandardPayload(call({ outcome: { responseText: 't'.repeat(3000), responseReasoning: long, responseToolCalls: calls } }), options({ contentChars: 4096 }));
    const message = messageOf(p);
    expect(message.reasoning_content).toBe(`${'r'.repeat(1096)}...(truncated, 100000 characters)`);
    expect(JSON.stringify(p.response).length).toBeLessThan(4096 * 1.5);
  });

  it('is only a chat answer\'s: a completion\'s logged text has none', () => {
    const p = buildStandardPayload(call({ endpoint: 'completion', record: { ...call().record, call_type: 'atext_completion' } }), options());
    expect(p.response).toBe('It is 4.');
  });
});

describe('the spans of an answer with reasoning', () => {
  const span = callWith({ record: { metadata: {}, request_tags: [] }, body: { model: 'reasoner', messages: [{ role: 'user', content: '2+2?' }] }, stream: false });
  const reasoned = () => span({ outcome: { responseText: 'It is 4.', responseReasoning: thought } });
  interface Span { attributes: { key: string; value: Record<string, unknown> }[] }
  const attrs = (json: string) => Object.fromEntries((JSON.parse(json) as Span).attributes.map((a) => [a.key, Object.values(a.value)[0]]));

  it('otel: in gen_ai.output.messages; langfuse_otel: in the observation output; OpenInference has no attribute for it', () => {
    const message = { role: 'assistant', content: 'It is 4.', reasoning_content: 'Two plus two is four.' };
    expect(JSON.parse(attrs(buildSpan(reasoned(), spanOptions()))['gen_ai.output.messages'] as string)).toEqual([message]);
    expect(JSON.parse(attrs(buildInferenceSpan(reasoned(), 'langfuse_otel', spanOptions()))['langfuse.observation.output'] as string)).toEqual(message);
    expect(buildInferenceSpan(reasoned(), 'arize_phoenix', spanOptions())).not.toContain('Two plus');
    expect(JSON.parse(attrs(buildSpan(span(), spanOptions()))['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', content: 'general kenobi' }]);
  });

  it('none of it with message logging off', () => {
    const off = spanOptions({ turnOffMessageLogging: true });
    for (const json of [buildSpan(reasoned(), off), buildInferenceSpan(reasoned(), 'langfuse_otel', off)]) expect(json).not.toMatch(/Two plus|reasoning_content/);
  });
});
