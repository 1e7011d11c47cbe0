import { describe, expect, it } from 'vitest';
import type { AnswerToolCall } from '../../providers/types.ts';
import { buildInferenceSpan } from './openinference.ts';
import { traceloopSpan } from './openllmetry.ts';
import { callWith, options } from './span-call.fixture.ts';
import { buildSpan } from './spans.ts';

// A /v1/responses call's answer in its spans: its `output` items, as the payload and Langfuse log it, not a chat message.

const weather: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];
const base = callWith({ record: { metadata: {}, request_tags: [] }, body: { model: 'gpt-4o', input: 'weather in Paris?' }, stream: false });
const responses = (outcome: { responseText?: string; responseToolCalls?: AnswerToolCall[] }, over = {}) =>
  base({ endpoint: 'responses', record: { ...base().record, call_type: 'aresponses' }, outcome, ...over });
const message = (text: string) => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
const functionCall = { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };

interface Span { attributes: { key: string; value: Record<string, unknown> }[] }
const attrs = (json: string) => Object.fromEntries((JSON.parse(json) as Span).attributes.map((a) => [a.key, Object.values(a.value)[0]]));

describe('a Responses API answer in its spans', () => {
  it('otel: gen_ai.output.messages holds the output items (the message, then a function_call per tool call)', () => {
    const a = attrs(buildSpan(responses({ responseText: 'Looking.', responseToolCalls: weather }), options()));
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([message('Looking.'), functionCall]);
    expect(JSON.parse(attrs(buildSpan(responses({ responseText: 'Sunny.' }), options()))['gen_ai.output.messages'] as string)).toEqual([message('Sunny.')]);
    expect(a['gen_ai.input.messages']).toBe('"weather in Paris?"');
  });

  it('OpenInference: one output message per output item at its index, as LiteLLM\'s _set_structured_outputs', () => {
    const a = attrs(buildInferenceSpan(responses({ responseText: 'Looking.', responseToolCalls: weather }), 'arize_phoenix', options()));
    expect(a).toMatchObject({
      'output.value': 'Looking.', 'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': 'Looking.',
      'llm.output_messages.1.message.role': 'assistant', 'llm.output_messages.1.message.tool_calls.0.tool_call.id': 'call_1',
      'llm.output_messages.1.message.tool_calls.0.tool_call.function.name': 'get_weather',
      'llm.output_messages.1.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris"}',
    });
    expect(a['llm.output_messages.0.message.tool_calls.0.tool_call.id']).toBeUndefined();
    const only = attrs(buildInferenceSpan(responses({ responseToolCalls: weather }), 'arize', options()));
    expect(JSON.parse(only['output.value'] as string)).toEqual([functionCall]);
    expect(only['llm.output_messages.0.message.tool_calls.0.tool_call.function.name']).toBe('get_weather');
  });

  it('langfuse_otel: the observation output is the output items, as Langfuse\'s own events show them', () => {
    const lf = attrs(buildInferenceSpan(responses({ responseText: 'Looking.', responseToolCalls: weather }), 'langfuse_otel', options()));
    expect(JSON.parse(lf['langfuse.observation.output'] as string)).toEqual([message('Looking.'), functionCall]);
    const masked = buildInferenceSpan(responses({ responseText: 'Looking.' }, { body: { model: 'gpt-4o', input: 'q', metadata: { mask_output: true } } }), 'langfuse_otel', options());
    expect(masked).not.toContain('Looking.');
  });

  it('OpenLLMetry: gen_ai.completion.0 is the answer\'s text and tool calls, as OpenLLMetry\'s Responses instrumentation sets it', () => {
    expect(attrs(traceloopSpan(responses({ responseText: 'Looking.', responseToolCalls: weather }), options()))).toMatchObject({
      'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.content': 'Looking.', 'gen_ai.completion.0.tool_calls.0.name': 'get_weather',
    });
  });

  it('nothing of the answer with message logging off, redacted by a header, or for a failed call', () => {
    const answered = () => responses({ responseText: 'Sunny in Paris.', responseToolCalls: weather });
    const off = { turnOffMessageLogging: true };
    const spans = [buildSpan(answered(), options(off)), buildInferenceSpan(answered(), 'arize_phoenix', options(off)), buildInferenceSpan(answered(), 'langfuse_otel', options(off)),
      buildInferenceSpan(answered(), 'arize', options({ callbackMessageLoggingOff: true })), buildSpan(answered(), options({ callbackMessageLoggingOff: true }))];
    for (const span of spans) expect(span).not.toMatch(/Sunny|get_weather|Paris/);
    const failed = responses({ responseText: 'Sunny in Paris.', responseToolCalls: weather }, { error: { message: 'boom', type: 'api_error' } });
    for (const span of [buildSpan(failed, options()), buildInferenceSpan(failed, 'arize', options())]) expect(span).not.toMatch(/Sunny|get_weather/);
  });

  it('bounds a long answer and a huge arguments string by the answer\'s limit', () => {
    const huge = responses({ responseText: 'y'.repeat(100_000), responseToolCalls: [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(500_000) } }] });
    for (const span of [buildSpan(huge, options({ contentChars: 2048 })), buildInferenceSpan(huge, 'arize_phoenix', options({ contentChars: 2048 })), buildInferenceSpan(huge, 'langfuse_otel', options({ contentChars: 2048 }))]) {
      expect(span.length).toBeLessThan(16_000);
    }
    // The text and the tool calls each within the limit on OpenInference's attributes, so a long text leaves the call shown.
    expect(buildInferenceSpan(huge, 'arize_phoenix', options({ contentChars: 2048 }))).toContain('write_file');
  });
});
