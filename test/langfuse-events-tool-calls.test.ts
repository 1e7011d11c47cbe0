import { describe, expect, it } from 'vitest';
import type { AnswerToolCall } from '../worker/providers/types.ts';
import { fitItem } from '../worker/telemetry/langfuse/packing.ts';
import { build, callEvent, record } from './support/langfuse-events.ts';

// An agent's turn answered with tool calls: LiteLLM logs the choice's message dict (role, content, tool_calls).

const weather: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];

describe('the Langfuse events of an answer with tool calls', () => {
  it('log the assistant message with its tool_calls, content null when it is only tool calls, on the generation and the trace', () => {
    const { trace, generation } = build(callEvent({ outcome: { responseToolCalls: weather } }));
    expect(generation.output).toEqual({ role: 'assistant', content: null, tool_calls: weather });
    expect(trace?.output).toEqual(generation.output);
    const both = build(callEvent({ outcome: { responseText: 'Looking.', responseToolCalls: weather } }));
    expect(both.generation.output).toEqual({ role: 'assistant', content: 'Looking.', tool_calls: weather });
  });

  it('log a Responses answer\'s output items: its message, then its function calls', () => {
    const { generation } = build(callEvent({ endpoint: 'responses', body: { model: 'gpt-4o', input: 'weather?' }, record: record({ call_type: 'aresponses' }), outcome: { responseText: 'Looking.', responseToolCalls: weather } }));
    expect(generation.output).toEqual([
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Looking.' }] },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ]);
  });

  it('log a Responses answer without tool calls as its output items too; with message logging off, the message redacted and no call shown', () => {
    const responses = (over: Parameters<typeof callEvent>[0]) => callEvent({ endpoint: 'responses', body: { model: 'gpt-4o', input: 'weather?' }, record: record({ call_type: 'aresponses' }), ...over });
    const plain = build(responses({ outcome: { responseText: 'Sunny.' } }));
    expect(plain.generation.output).toEqual([{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Sunny.' }] }]);
    expect(plain.trace?.output).toEqual(plain.generation.output);
    const off = build(responses({ outcome: { responseText: 'Looking.', responseToolCalls: weather } }), { turnOffMessageLogging: true });
    expect(off.generation.output).toEqual([{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'redacted-by-litellm' }] }]);
    expect(JSON.stringify(off.events)).not.toMatch(/get_weather|Paris|Looking/);
    // Nothing kept, nothing logged.
    expect(build(responses({ outcome: {} })).generation.output).toBeUndefined();
  });

  it('with message logging off, show no tool call name or argument', () => {
    const { events, generation } = build(callEvent({ outcome: { responseToolCalls: weather } }), { turnOffMessageLogging: true });
    expect(generation.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
    expect(JSON.stringify(events)).not.toMatch(/get_weather|Paris/);
    const masked = build(callEvent({ outcome: { responseToolCalls: weather } }), { callbackMessageLoggingOff: true });
    expect(JSON.stringify(masked.events)).not.toMatch(/get_weather|Paris/);
  });

  it('fit a huge arguments string into a queue message, cut and marked', () => {
    const huge: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(3_000_000) } }];
    const { events } = build(callEvent({ outcome: { responseToolCalls: huge } }));
    const fitted = fitItem({ callback: 'langfuse', callId: 'call-1', destination: { source: 'env' }, events });
    expect(fitted).not.toBeNull();
    expect(fitted!.json).toContain('"truncated":true');
    expect(fitted!.json).toContain('write_file');
  });
});
