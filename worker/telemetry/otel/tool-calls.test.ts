import { describe, expect, it } from 'vitest';
import type { AnswerToolCall } from '../../providers/types.ts';
import { buildInferenceSpan } from './openinference.ts';
import { langtraceSpan, traceloopSpan } from './openllmetry.ts';
import { callWith, options } from './span-call.fixture.ts';
import { buildSpan } from './spans.ts';

// An agent's turn answered with tool calls: each span flavour shows them under its vendor's attribute names.

const weather: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];
const call = callWith({ record: { metadata: {}, request_tags: [] }, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }] }, stream: false });
const toolCall = () => call({ outcome: { responseToolCalls: weather } });

interface Span { attributes: { key: string; value: Record<string, unknown> }[]; events?: { attributes: Span['attributes'] }[] }
const attrs = (json: string) => Object.fromEntries((JSON.parse(json) as Span).attributes.map((a) => [a.key, Object.values(a.value)[0]]));

describe('the tool calls of an answer in its spans', () => {
  it('otel: in gen_ai.output.messages, the message\'s tool_calls with content null', () => {
    const a = attrs(buildSpan(toolCall(), options()));
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', content: null, tool_calls: weather }]);
  });

  it('OpenInference: llm.output_messages.0.message.tool_calls.N.tool_call.*, and langfuse_otel\'s observation output', () => {
    const a = attrs(buildInferenceSpan(call({ outcome: { responseText: 'Looking.', responseToolCalls: weather } }), 'arize_phoenix', options()));
    expect(a).toMatchObject({
      'output.value': 'Looking.', 'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': 'Looking.',
      'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_1',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'get_weather',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris"}',
    });
    const only = attrs(buildInferenceSpan(toolCall(), 'arize', options()));
    expect(JSON.parse(only['output.value'] as string)).toEqual(weather);
    const lf = attrs(buildInferenceSpan(toolCall(), 'langfuse_otel', options()));
    expect(JSON.parse(lf['langfuse.observation.output'] as string)).toEqual({ role: 'assistant', content: null, tool_calls: weather });
  });

  it('OpenLLMetry: gen_ai.completion.0.tool_calls.N.* for traceloop, the completion event\'s tool_calls for langtrace', () => {
    expect(attrs(traceloopSpan(toolCall(), options()))).toMatchObject({
      'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.tool_calls.0.id': 'call_1',
      'gen_ai.completion.0.tool_calls.0.name': 'get_weather', 'gen_ai.completion.0.tool_calls.0.arguments': '{"city":"Paris"}',
    });
    const events = (JSON.parse(langtraceSpan(toolCall(), options())) as Span).events ?? [];
    const completion = events.flatMap((e) => e.attributes).find((a) => a.key === 'gen_ai.completion');
    expect(JSON.parse(completion!.value.stringValue as string)).toEqual([{ role: 'assistant', content: null, tool_calls: weather }]);
  });

  it('none of them with message logging off, nor for a failed call', () => {
    const off = { turnOffMessageLogging: true };
    const spans = [buildSpan(toolCall(), options(off)), buildInferenceSpan(toolCall(), 'arize_phoenix', options(off)), buildInferenceSpan(toolCall(), 'langfuse_otel', options(off)),
      traceloopSpan(toolCall(), options(off)), langtraceSpan(toolCall(), options(off)), buildInferenceSpan(toolCall(), 'arize', options({ callbackMessageLoggingOff: true }))];
    for (const span of spans) expect(span).not.toMatch(/get_weather|Paris/);
    const failed = call({ outcome: { responseToolCalls: weather }, error: { message: 'boom', type: 'api_error' } });
    for (const span of [buildSpan(failed, options()), buildInferenceSpan(failed, 'arize', options()), traceloopSpan(failed, options())]) expect(span).not.toContain('get_weather');
  });

  it('bound a huge arguments string by the answer\'s limit', () => {
    const huge = call({ outcome: { responseToolCalls: [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(500_000) } }] } });
    for (const span of [buildSpan(huge, options({ contentChars: 2048 })), buildInferenceSpan(huge, 'arize_phoenix', options({ contentChars: 2048 })), traceloopSpan(huge, options({ contentChars: 2048 })), langtraceSpan(huge, options({ contentChars: 2048 }))]) {
      expect(span.length).toBeLessThan(12_000);
      expect(span).toContain('write_file');
    }
  });
});
