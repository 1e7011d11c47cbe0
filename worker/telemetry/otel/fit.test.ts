import { describe, expect, it } from 'vitest';
import { ITEM_BYTES } from '../langfuse/packing.ts';
import { utf8Length } from '../queue-packing.ts';
import { CONTENT_CHARS, fitSpan, INFERENCE_LIMITS } from './fit.ts';
import type { ContentLimits } from './openinference-content.ts';
import { inferenceSpanBuilder, type InferenceFlavour } from './openinference.ts';
import { buildSpan, type SpanCall } from './spans.ts';

// How the sink (sink.ts enqueueSpan) picks the size of a span it queues: the first step of less and less prompt
// and answer whose span fits in a queue message, counted in real UTF-8 bytes.

const headers = { get: () => null, forEach: () => undefined };

function call(body: Record<string, unknown>, answer: string, over: Partial<SpanCall['record']> = {}): SpanCall {
  return {
    record: {
      request_id: '7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f', call_type: 'acompletion', api_key: 'b'.repeat(64), spend: 0.001,
      prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z',
      model: 'gpt-4o', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.example/v1',
      metadata: {}, cache_hit: false, request_tags: [], end_user: '', session_id: '', ...over,
    },
    endpoint: 'chat', body: { model: 'gpt-4o', ...body }, stream: false, headers, outcome: { responseText: answer },
  } as SpanCall;
}

const base = { turnOffMessageLogging: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false };

const attrs = (json: string) => Object.fromEntries((JSON.parse(json) as { attributes: { key: string; value: Record<string, unknown> }[] }).attributes
  .map((a) => [a.key, Object.values(a.value)[0]]));

/** The inference span fitted as the sink fits it, and the limits it was built at, in order. */
function fitInference(c: SpanCall, flavour: InferenceFlavour) {
  const build = inferenceSpanBuilder(c, flavour, base);
  const tried: ContentLimits[] = [];
  const fitted = fitSpan(INFERENCE_LIMITS, (limits) => {
    tried.push(limits);
    return build(limits);
  });
  return { fitted: fitted!, tried, a: attrs(fitted!.json) };
}

describe('fitting a span in a queue message', () => {
  it('keeps the prompt and the whole answer of a langfuse_otel span whose long ASCII answer ends in one curly quote', () => {
    const answer = `${'The answer is long. '.repeat(550)}’`;
    const { fitted, tried, a } = fitInference(call({ messages: [{ role: 'user', content: 'tell me everything' }] }, answer), 'langfuse_otel');
    expect(tried).toEqual([{ input: 16 * 1024, output: 16 * 1024 }]);
    expect(fitted.bytes).toBe(Buffer.byteLength(fitted.json));
    expect(fitted.bytes).toBeLessThanOrEqual(ITEM_BYTES);
    expect(JSON.parse(a['langfuse.observation.input'] as string)).toEqual({ messages: [{ role: 'user', content: 'tell me everything' }] });
    expect(a['output.value']).toBe(answer);
    expect(JSON.parse(a['langfuse.observation.output'] as string)).toEqual({ role: 'assistant', content: answer });
  });

  it('lowers a long two-byte prompt before the answer, which stays whole', () => {
    const prompt = 'é'.repeat(20_000);
    const tools = [{ type: 'function', function: { name: 'lookup', description: 'ü'.repeat(20_000), parameters: { type: 'object' } } }];
    const answer = 'a'.repeat(16_000);
    const { fitted, tried, a } = fitInference(call({ messages: [{ role: 'user', content: prompt }], tools }, answer), 'arize_phoenix');
    // The prompt is lowered first, and the first step that fits is taken, counted exactly (its 3-bytes-a-character bound is over).
    expect(tried).toEqual([{ input: 16 * 1024, output: 16 * 1024 }, { input: 2 * 1024, output: 16 * 1024 }]);
    expect(fitted.json.length * 3).toBeGreaterThan(ITEM_BYTES);
    expect(fitted.bytes).toBe(Buffer.byteLength(fitted.json));
    expect(a['output.value']).toBe(answer);
    expect(a['llm.output_messages.0.message.content']).toBe(answer);
    expect(a['input.value']).toBe(`${'é'.repeat(2048)}...(truncated, 20000 characters)`);
    expect(a['llm.tools.0.name']).toBe('lookup');
    expect((a['llm.tools.0.description'] as string).startsWith('ü'.repeat(2048))).toBe(true);
  });

  it('steps a plain otel span down to 512, then 128 characters of prompt and answer, before none', () => {
    const c = (tag: string) => call({ messages: [{ role: 'user', content: 'q'.repeat(5000) }] }, 'r'.repeat(5000), { request_tags: [tag] });
    const options = { ...base, contentChars: 0 };
    const size = (tag: string, chars: number) => buildSpan(c(tag), { ...options, contentChars: chars }).length;
    for (const step of [512, 128]) {
      // A tag that leaves the span room for this step's content but not for the one before.
      const tag = 't'.repeat(ITEM_BYTES - size('', step));
      expect(size(tag, CONTENT_CHARS[CONTENT_CHARS.indexOf(step) - 1]!)).toBeGreaterThan(ITEM_BYTES);
      const tried: number[] = [];
      const fitted = fitSpan(CONTENT_CHARS, (chars) => {
        tried.push(chars);
        return buildSpan(c(tag), { ...options, contentChars: chars });
      })!;
      expect(tried.at(-1)).toBe(step);
      const a = attrs(fitted.json);
      const input = JSON.stringify([{ role: 'user', content: 'q'.repeat(5000) }]);
      expect(a['gen_ai.input.messages']).toBe(`${input.slice(0, step)}...(truncated, ${input.length} characters)`);
      expect((a['gen_ai.output.messages'] as string).startsWith(`[{"role":"assistant","content":"rrr`)).toBe(true);
    }
  });

  it('counts UTF-8 exactly: one, two, three bytes a character, four a surrogate pair, three a lone surrogate', () => {
    for (const text of ['plain', 'café’', '𝄞 and 😀', 'x\ud800y', '\udc00', 'é'.repeat(1000)]) expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });
});
