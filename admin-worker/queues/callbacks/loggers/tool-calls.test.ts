import { describe, expect, it } from 'vitest';
import type { AnswerToolCall } from '../../../../worker/providers/types.ts';
import { buildStandardPayload, type StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import { braintrustEvent } from './braintrust.ts';
import { datadogSettings } from './datadog.ts';
import { llmObsSpan } from './datadog-llm-obs-span.ts';
import { heliconeLog } from './helicone.ts';
import { lunaryEvents } from './lunary.ts';

// An agent's turn answered with tool calls, from the gateway's own payload to each logger's wire format: the
// loggers read the payload's `response`, so the tool calls the gateway now puts there reach each of them.

const weather: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];

function gatewayPayload(model = 'gpt-4o', messageLoggingOff = false, responses?: { text: string }) {
  const none = { get: () => null, forEach: () => undefined };
  const call: StandardCall = {
    record: {
      request_id: 'call-9', call_type: responses ? 'aresponses' : 'acompletion', api_key: 'a'.repeat(64), spend: 0.001, prompt_tokens: 3, completion_tokens: 2, total_tokens: 5,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: null,
      model, model_id: 'dep-1', model_group: model, custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1',
      metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: '',
    },
    endpoint: responses ? 'responses' : 'chat', body: { model, ...(responses ? { input: 'weather in Paris?' } : { messages: [{ role: 'user', content: 'weather in Paris?' }] }) },
    stream: false, headers: none, outcome: { responseToolCalls: weather, ...(responses ? { responseText: responses.text } : {}) },
  };
  return buildStandardPayload(call, {
    turnOffMessageLogging: false, callbackMessageLoggingOff: messageLoggingOff, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: messageLoggingOff ? 0 : 16 * 1024,
  });
}

describe('the tool calls of an answer in the admin Worker\'s loggers', () => {
  const settings = datadogSettings({ DD_API_KEY: 'dd-unit-api-key-0123456789', DD_SITE: 'us5.datadoghq.com' });

  it('datadog_llm_observability: the output message\'s tool_calls and LiteLLM\'s output_tool_calls.* metadata', () => {
    const span = llmObsSpan(gatewayPayload(), settings) as { meta: { output: { messages: unknown[] }; metadata: Record<string, unknown> } };
    expect(span.meta.output.messages).toEqual([{ role: 'assistant', content: null, tool_calls: weather }]);
    expect(span.meta.metadata).toMatchObject({ 'output_tool_calls.0.id': 'call_1', 'output_tool_calls.0.function.name': 'get_weather', 'output_tool_calls.0.function.arguments': '{"city":"Paris"}' });
  });

  it('lunary, braintrust and helicone (a claude model\'s answer as tool_use blocks)', () => {
    const end = lunaryEvents(gatewayPayload(), { runId: '00000000-0000-0000-0000-000000000001' })[1]!;
    expect(end.output).toEqual({ role: 'assistant', content: null, tool_calls: weather });
    expect(braintrustEvent(gatewayPayload()).output).toMatchObject([{ finish_reason: 'tool_calls', message: { tool_calls: weather } }]);
    const claude = heliconeLog(gatewayPayload('claude-3-5-sonnet')).body as { providerResponse: { json: { content: unknown[] } } };
    expect(claude.providerResponse.json.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: '{"city":"Paris"}' }]);
  });

  it('lunary and helicone read a Responses answer\'s output: its text and its function_call items as the calls', () => {
    const answer = gatewayPayload('gpt-4o', false, { text: 'Checking.' });
    expect(answer.response).toMatchObject({ object: 'response' });
    const end = lunaryEvents(answer, { runId: '00000000-0000-0000-0000-000000000001' })[1]!;
    expect(end.output).toEqual({ role: 'assistant', content: 'Checking.', tool_calls: weather });
    const callsOnly = lunaryEvents(gatewayPayload('gpt-4o', false, { text: '' }), { runId: '00000000-0000-0000-0000-000000000001' })[1]!;
    expect(callsOnly.output).toEqual({ role: 'assistant', content: null, tool_calls: weather });
    const claude = heliconeLog(gatewayPayload('claude-3-5-sonnet', false, { text: 'Checking.' })).body as { providerResponse: { json: Record<string, unknown> } };
    expect(claude.providerResponse.json).toMatchObject({
      content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: '{"city":"Paris"}' }], stop_reason: 'tool_calls',
    });
  });

  it('datadog_llm_observability and braintrust read a Responses answer\'s output as its message (LiteLLM\'s show none)', () => {
    const answer = gatewayPayload('gpt-4o', false, { text: 'Checking.' });
    const span = llmObsSpan(answer, settings) as { meta: { output: { messages: unknown[] }; metadata: Record<string, unknown> } };
    expect(span.meta.output.messages).toEqual([{ role: 'assistant', content: 'Checking.', tool_calls: weather }]);
    expect(span.meta.metadata).toMatchObject({ 'output_tool_calls.0.function.name': 'get_weather' });
    expect(braintrustEvent(answer).output).toEqual([{ index: 0, message: { role: 'assistant', content: 'Checking.', tool_calls: weather }, finish_reason: 'tool_calls' }]);
    const plain = { ...answer, response: { object: 'response', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Sunny.' }] }] } };
    expect((llmObsSpan(plain, settings) as { meta: { output: { messages: unknown[] } } }).meta.output.messages).toEqual([{ role: 'assistant', content: 'Sunny.' }]);
    expect(braintrustEvent(plain).output).toEqual([{ index: 0, message: { role: 'assistant', content: 'Sunny.' }, finish_reason: 'stop' }]);
    // A chat call's answer that is not a Responses object shows nothing as one.
    expect(braintrustEvent({ ...answer, response: 'Sunny.' }).output).toEqual([]);
  });

  it('none of them with message logging off', () => {
    for (const off of [gatewayPayload('claude-3-5-sonnet', true), gatewayPayload('gpt-4o', true, { text: 'Checking.' })]) {
      const sent = [llmObsSpan(off, settings), lunaryEvents(off, { runId: '00000000-0000-0000-0000-000000000001' }), braintrustEvent(off), heliconeLog(off)];
      expect(JSON.stringify(sent)).not.toMatch(/get_weather|Paris"|Checking/);
    }
  });
});
