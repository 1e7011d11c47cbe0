import { describe, expect, it } from 'vitest';
import { CONTENT_CHARS, fitSpan, INFERENCE_LIMITS } from './fit.ts';
import { langtraceSpan, langtraceSpanBuilder, MAX_PROMPT_MESSAGES, MAX_STOP_SEQUENCES, traceloopSpan, traceloopSpanBuilder } from './openllmetry.ts';
import { callWith, options } from './span-call.fixture.ts';

const call = callWith({
  record: { metadata: {}, request_tags: [] },
  body: { model: 'gpt-4o', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }], stop: ['END'], top_k: 3 },
  stream: true,
});

interface Json { name: string; kind: number; attributes: { key: string; value: Record<string, unknown> }[]; events?: { name: string; attributes: Json['attributes'] }[]; status: { code: number; message?: string } }
const attrs = (list: Json['attributes']) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

describe('traceloopSpan', () => {
  it('indexes the prompt\'s messages and the completion, OpenLLMetry\'s usage names, on a litellm.completion client span', () => {
    const span = JSON.parse(traceloopSpan(call(), options())) as Json;
    expect(span).toMatchObject({ name: 'litellm.completion', kind: 3, status: { code: 1 } });
    expect(attrs(span.attributes)).toMatchObject({
      'gen_ai.prompt.0.role': 'system', 'gen_ai.prompt.0.content': 'be brief', 'gen_ai.prompt.1.content': 'hello there',
      'gen_ai.completion.0.content': 'general kenobi', 'gen_ai.usage.prompt_tokens': '10', 'llm.usage.total_tokens': '15',
      'llm.is_streaming': true, 'llm.top_k': '3', 'gen_ai.cost.total_cost': 0.0025, 'gen_ai.response.model': 'gpt-4o-2024-08-06',
    });
    expect(attrs(span.attributes)['llm.chat.stop_sequences']).toEqual({ values: [{ stringValue: 'END' }] });
  });

  it('shares one budget among the prompt\'s messages, newest first, and leaves prompt, answer and stop sequences out when message logging is off', () => {
    const long = call({ body: { messages: [{ role: 'user', content: 'x'.repeat(100) }, { role: 'user', content: 'y'.repeat(100) }] } });
    const cut = attrs((JSON.parse(traceloopSpan(long, options({ contentChars: 300 }))) as Json).attributes);
    expect(cut['gen_ai.prompt.0.content']).toMatch(/^x{68}\.\.\.\(truncated, 100 characters\)$/);
    expect(cut['gen_ai.prompt.1.content']).toBe('y'.repeat(100));
    const off = traceloopSpan(call(), options({ callbackMessageLoggingOff: true }));
    expect(off).not.toMatch(/hello there|general kenobi|END|gen_ai\.prompt|gen_ai\.completion/);
  });

  it('bounds a prompt of many empty messages and long roles, keeping the newest and the answer when fitted to a message', () => {
    const messages = Array.from({ length: 650_000 }, (_, i) => ({ role: i === 649_999 ? 'r'.repeat(10_000) : 'user', content: '' }));
    const many = call({ body: { messages } });
    const started = Date.now();
    const fitted = fitSpan(INFERENCE_LIMITS, traceloopSpanBuilder(many, options()));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(fitted?.limit).toEqual({ input: 16 * 1024, output: 16 * 1024 });
    const a = attrs((JSON.parse(fitted!.json) as Json).attributes);
    const roles = Object.keys(a).filter((k) => /^gen_ai\.prompt\.\d+\.role$/.test(k));
    expect(roles.length).toBeLessThanOrEqual(MAX_PROMPT_MESSAGES + 1);
    expect(a['gen_ai.prompt.0.content']).toMatch(/^\(\d+ earlier messages left out\)$/);
    expect(a[`gen_ai.prompt.${roles.length - 1}.role`]).toBe('r'.repeat(64));
    expect(a['gen_ai.completion.0.content']).toBe('general kenobi');

    const longPrompt = call({ body: { messages: [{ role: 'user', content: 'p'.repeat(400_000) }] }, outcome: { responseText: 'the answer' } });
    const cut = fitSpan(INFERENCE_LIMITS, traceloopSpanBuilder(longPrompt, options()));
    expect(attrs((JSON.parse(cut!.json) as Json).attributes)['gen_ai.completion.0.content']).toBe('the answer');
  });

  it('bounds the stop sequences (a huge one, a million tiny ones) and request-set names, keeping the answer when fitted to a message', () => {
    for (const stop of [['s'.repeat(19_000_000), 'END'], Array.from({ length: 1_000_000 }, () => 'x')]) {
      const body = { messages: [{ role: 'user', content: 'hi' }], stop, user: 'u'.repeat(100_000) };
      const record = { ...call().record, model: 'm'.repeat(100_000), model_group: 'g'.repeat(100_000) };
      for (const builder of [traceloopSpanBuilder, langtraceSpanBuilder]) {
        const fitted = fitSpan(INFERENCE_LIMITS, builder(call({ body, record }), options()));
        expect(fitted?.limit).toEqual({ input: 16 * 1024, output: 16 * 1024 });
        expect(fitted!.json).toContain('general kenobi');
        const a = attrs((JSON.parse(fitted!.json) as Json).attributes);
        const values = (a['llm.chat.stop_sequences'] as { values: { stringValue: string }[] }).values.map((v) => v.stringValue);
        expect(values.length).toBeLessThanOrEqual(MAX_STOP_SEQUENCES);
        expect(values.every((v) => v.length < 300)).toBe(true);
        expect((a['llm.user'] as string).length).toBe(256);
        expect((a['gen_ai.response.model'] as string).length).toBe(256);
        expect((a['gen_ai.request.model'] as string).length).toBe(256);
      }
    }
  });

  it('sends no content for a null content (a tool-calling assistant turn), not the text ""', () => {
    const span = traceloopSpan(call({ body: { messages: [{ role: 'assistant', content: null }, { role: 'user', content: 'next' }] } }), options());
    const a = attrs((JSON.parse(span) as Json).attributes);
    expect(a['gen_ai.prompt.0.role']).toBe('assistant');
    expect(a).not.toHaveProperty('gen_ai.prompt.0.content');
    expect(a['gen_ai.prompt.1.content']).toBe('next');
  });

  it('gives a failed call an ERROR status and no completion', () => {
    const span = JSON.parse(traceloopSpan(call({ error: { message: 'rate limited', type: 'RateLimitError' }, outcome: undefined }), options())) as Json;
    expect(span.status).toEqual({ code: 2, message: 'rate limited' });
    expect(Object.keys(attrs(span.attributes)).some((k) => k.startsWith('gen_ai.completion'))).toBe(false);
  });
});

describe('langtraceSpan', () => {
  it('carries the prompt and completion as events, fitted to a queue message like the other spans', () => {
    const span = JSON.parse(langtraceSpan(call(), options())) as Json;
    expect(attrs(span.attributes)).toMatchObject({ 'gen_ai.operation.name': 'chat', 'langtrace.service.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
    const events = Object.fromEntries((span.events ?? []).map((e) => [e.name, attrs(e.attributes)]));
    expect(JSON.parse(events['gen_ai.content.prompt']!['gen_ai.prompt'] as string)).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }]);
    expect(JSON.parse(events['gen_ai.content.completion']!['gen_ai.completion'] as string)).toEqual([{ role: 'assistant', content: 'general kenobi' }]);

    const huge = call({ outcome: { responseText: 'z'.repeat(400_000) } });
    const fitted = fitSpan(CONTENT_CHARS, (contentChars) => langtraceSpan(huge, options({ contentChars })));
    expect(fitted?.limit).toBe(16 * 1024);
    expect(JSON.parse(langtraceSpan(call(), options({ turnOffMessageLogging: true }))).events).toBeUndefined();

    const many = call({ body: { messages: Array.from({ length: 650_000 }, () => ({ role: 'user', content: '' })) } });
    const bounded = fitSpan(INFERENCE_LIMITS, langtraceSpanBuilder(many, options()));
    expect(bounded?.limit).toEqual({ input: 16 * 1024, output: 16 * 1024 });
    const kept = Object.fromEntries(((JSON.parse(bounded!.json) as Json).events ?? []).map((e) => [e.name, attrs(e.attributes)]));
    expect((JSON.parse(kept['gen_ai.content.prompt']!['gen_ai.prompt'] as string) as unknown[]).length).toBeLessThanOrEqual(MAX_PROMPT_MESSAGES + 1);
    expect(kept['gen_ai.content.completion']!['gen_ai.completion']).toContain('general kenobi');
  });
});
