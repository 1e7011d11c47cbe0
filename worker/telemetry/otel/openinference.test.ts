import { describe, expect, it } from 'vitest';
import { fitSpan, INFERENCE_LIMITS } from './fit.ts';
import { buildInferenceSpan, inferenceSpanBuilder, type InferenceOptions } from './openinference.ts';
import { callWith, options as spanOptions } from './span-call.fixture.ts';

const call = callWith({
  record: { metadata: { user_api_key_alias: 'alias', user_api_key_team_id: 'team-1' }, request_tags: ['prod'] },
  body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }], temperature: 0.2, user: 'customer-1' },
  stream: false,
});
const options = (over: Partial<InferenceOptions> = {}) => spanOptions<InferenceOptions>(over);

const attrs = (json: string) => Object.fromEntries((JSON.parse(json) as { attributes: { key: string; value: Record<string, unknown> }[] }).attributes
  .map((a) => [a.key, Object.values(a.value)[0]]));

describe('buildInferenceSpan', () => {
  it('keeps every credential-named request field out of llm.invocation_parameters, and the key\'s identity out under redact_user_api_key_info', () => {
    const c = call({ body: { ...call().body, api_key: 'sk-client-secret', extra_headers: { authorization: 'Bearer x' }, api_base: 'https://u:p@h', max_tokens: 9 } });
    const a = attrs(buildInferenceSpan(c, 'arize_phoenix', options({ redactUserApiKeyInfo: true })));
    expect(JSON.parse(a['llm.invocation_parameters'] as string)).toEqual({ temperature: 0.2, user: 'customer-1', max_tokens: 9 });
    expect(JSON.stringify(a)).not.toMatch(/sk-client-secret|Bearer x|u:p@|alias|a{64}/);
  });

  it('makes a request offering tools a TOOL span with the tools named, and an embedding an EMBEDDING span', () => {
    const tools = [{ type: 'function', function: { name: 'lookup', description: 'find things', parameters: { type: 'object' } } }];
    const a = attrs(buildInferenceSpan(call({ body: { ...call().body, tools } }), 'arize', options()));
    expect(a).toMatchObject({ 'openinference.span.kind': 'TOOL', 'llm.tools.0.name': 'lookup', 'llm.tools.0.description': 'find things' });
    const e = attrs(buildInferenceSpan(call({ endpoint: 'embedding', record: { ...call().record, call_type: 'aembedding' }, body: { model: 'e', input: 'embed me' }, outcome: {} }), 'arize', options()));
    expect(e).toMatchObject({ 'openinference.span.kind': 'EMBEDDING', 'input.value': 'embed me' });
  });

  it('marks a failed call ERROR, its detail withheld when message logging is off, and sends no answer', () => {
    const failed = call({ outcome: undefined, error: { message: 'litellm.BadRequestError: OpenAIException - you said hello there', type: 'invalid_request_error' } });
    const span = JSON.parse(buildInferenceSpan(failed, 'langfuse_otel', options({ turnOffMessageLogging: true }))) as { status: { code: number; message: string } };
    expect(span.status).toEqual({ code: 2, message: 'litellm.BadRequestError: OpenAIException - redacted-by-litellm' });
    const a = attrs(JSON.stringify(span));
    expect(a).toMatchObject({ 'error.type': 'invalid_request_error', 'langfuse.observation.level': 'ERROR' });
    expect(JSON.stringify(a)).not.toContain('hello there');
  });

  it('honours mask_input and mask_output for langfuse_otel, and cuts long contents to contentChars', () => {
    const masked = attrs(buildInferenceSpan(call({ body: { ...call().body, metadata: { mask_input: true, mask_output: true } } }), 'langfuse_otel', options()));
    expect(JSON.stringify(masked)).not.toMatch(/hello there|general kenobi/);
    expect(masked['langfuse.generation.mask_input']).toBe(true);
    const long = attrs(buildInferenceSpan(call({ body: { messages: [{ role: 'user', content: 'x'.repeat(5000) }] } }), 'arize_phoenix', options({ contentChars: 100 })));
    expect((long['input.value'] as string).length).toBeLessThan(200);
  });

  it('keeps the newest input messages within one budget, after a marker of how many were left out, and the whole answer', () => {
    const messages = Array.from({ length: 60 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'é'.repeat(2990)}` }));
    const c = call({ body: { model: 'gpt-4o', messages } });
    const a = attrs(buildInferenceSpan(c, 'arize_phoenix', options()));
    const contents = Object.entries(a).filter(([k]) => /^llm\.input_messages\.\d+\.message\.content$/.test(k)).map(([, v]) => v as string);
    expect(contents.join('').length).toBeLessThanOrEqual(16 * 1024);
    expect(contents[0]).toBe('(54 earlier messages left out)');
    expect(a['llm.input_messages.0.message.role']).toBe('system');
    expect(contents.at(-1)).toBe(messages[59]!.content);
    expect(a[`llm.input_messages.${contents.length - 1}.message.role`]).toBe('assistant');
    expect(a['input.value']).toBe(messages[59]!.content);
    expect(a['output.value']).toBe('general kenobi');

    const lf = JSON.parse(attrs(buildInferenceSpan(c, 'langfuse_otel', options()))['langfuse.observation.input'] as string) as { messages: { role: string; content: string }[] };
    expect(lf.messages[0]).toEqual({ role: 'system', content: expect.stringMatching(/^\(\d+ earlier messages left out\)$/) });
    expect(lf.messages.at(-1)).toEqual(messages[59]);
    expect(JSON.stringify(lf.messages).length).toBeLessThan(17 * 1024);
  });

  it('shares the tools\' budget too, and always keeps the newest message, cut, when it alone is over the budget', () => {
    const tools = Array.from({ length: 40 }, (_, i) => ({ type: 'function', function: { name: `tool${i}`, description: 'd'.repeat(1000), parameters: { type: 'object' } } }));
    const a = attrs(buildInferenceSpan(call({ body: { messages: [{ role: 'user', content: 'q'.repeat(5000) }], tools } }), 'arize', options({ contentChars: 2048 })));
    const toolText = Object.entries(a).filter(([k]) => /^llm\.tools\.\d+\.(description|parameters)$/.test(k)).map(([, v]) => v as string).join('');
    expect(toolText.length).toBeLessThanOrEqual(2048 + 64);
    expect(a['llm.tools.39.name']).toBe('tool39');
    expect(a['llm.input_messages.0.message.content']).toMatch(/^q{1024,}\.\.\.\(truncated, 5000 characters\)$/);
    expect(a['output.value']).toBe('general kenobi');
  });

  it('serialises each tool\'s parameters at most once however often the span is built, and none once the budget is spent', () => {
    const serialised = Array.from({ length: 10 }, () => 0);
    const tools = serialised.map((_, i) => ({ type: 'function', function: { name: `t${i}`, description: 'd'.repeat(900), parameters: { toJSON: () => (serialised[i]!++, { type: 'object' }) } } }));
    const build = inferenceSpanBuilder(call({ body: { ...call().body, tools } }), 'arize', options());
    for (const input of [2048, 512, 128, 0]) build({ input, output: 16 * 1024 });
    expect(serialised.slice(0, 2)).toEqual([1, 1]);
    expect(serialised.slice(3)).toEqual([0, 0, 0, 0, 0, 0, 0]);

    const lfBuild = inferenceSpanBuilder(call({ body: { ...call().body, tools } }), 'langfuse_otel', options());
    serialised.fill(0);
    const inputs = [16 * 1024, 2048, 512].map((input) => attrs(lfBuild({ input, output: 16 * 1024 }))['langfuse.observation.input'] as string);
    // Once for langfuse.observation.input's tools, at most once more for llm.tools.N.parameters.
    expect(Math.max(...serialised)).toBeLessThanOrEqual(2);
    const cut = JSON.parse(inputs[2]!) as { messages: unknown[]; tools: unknown };
    expect(cut.messages).toEqual([{ role: 'user', content: 'hello there' }]);
    expect(cut.tools).toMatch(/^\[\{"type":"function".*\.\.\.\(truncated, \d+ characters\)$/);
    expect(inputs[2]!.length).toBeLessThanOrEqual(2 * 512 + 64);
    expect((JSON.parse(inputs[0]!) as { tools: unknown }).tools).toHaveLength(10);
  });

  it('lists at most 128 tools, their names cut and counted, so a request offering 2,000 still gets a span with its prompt and answer', () => {
    const tools = Array.from({ length: 2000 }, (_, i) => ({ type: 'function', function: { name: `${i}_`.padEnd(i === 0 ? 500 : 64, 'n'), description: 'find', parameters: { type: 'object' } } }));
    const c = call({ body: { ...call().body, tools } });
    const fitted = fitSpan(INFERENCE_LIMITS, inferenceSpanBuilder(c, 'arize_phoenix', options()))!;
    expect(fitted.limit).toEqual({ input: 16 * 1024, output: 16 * 1024 });
    const a = attrs(fitted.json);
    const names = Object.keys(a).filter((k) => /^llm\.tools\.\d+\.name$/.test(k));
    expect(names.length).toBeGreaterThan(20);
    expect(names.length).toBeLessThanOrEqual(128);
    expect(a['llm.tools.0.name']).toBe(`${'0_'.padEnd(128, 'n')}...(truncated, 500 characters)`);
    expect(a['llm.tools.1.name']).toBe(tools[1]!.function.name);
    expect(a).toMatchObject({ 'openinference.span.kind': 'TOOL', 'input.value': 'hello there', 'output.value': 'general kenobi' });
    expect(fitted.json.length).toBeLessThan(20 * 1024);
  });
});
