import { describe, expect, it } from 'vitest';
import { buildStandardPayload, type StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import { datadogSettings } from './datadog.ts';
import { inputMessages, llmObsSpan } from './datadog-llm-obs-span.ts';

// LiteLLM's Datadog LLM Observability span, from a StandardLoggingPayload: what Datadog's LLM Observability view
// reads (the trace placement, input and output messages, token and cost metrics, the error of a failed call).

const payload = {
  id: 'call-1', trace_id: 'trace-1', call_type: 'acompletion', stream: false, status: 'success', model: 'gpt-4o', custom_llm_provider: 'openai',
  response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, startTime: 100, endTime: 101.5, completionStartTime: 100.25,
  cache_hit: false, cache_key: null, saved_cache_cost: 0, request_tags: ['prod'], guardrail_information: null, model_parameters: { temperature: 0 },
  hidden_params: { litellm_overhead_time_ms: 3 },
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi ' }, { type: 'text', text: 'there' }] }],
  response: { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] },
  metadata: { user_api_key_hash: 'abc', user_api_key_team_alias: 'blue', requester_metadata: {} },
  error_str: null, error_information: null,
};
const env = { DD_API_KEY: 'dd-unit-api-key-0123456789', DD_SITE: 'us5.datadoghq.com', DD_ENV: 'test', DD_SERVICE: 'gw', HOSTNAME: 'h1' };
const settings = datadogSettings(env);
const baseTags = ['env:test', 'service:gw', 'version:unknown', 'HOSTNAME:h1', 'POD_NAME:unknown'];

describe('the datadog_llm_observability span', () => {
  it('is LiteLLM\'s: a root llm span, messages in (text parts joined), the first choice out, its metadata, metrics and tags', () => {
    expect(llmObsSpan(payload, settings)).toEqual({
      parent_id: 'undefined', trace_id: 'trace-1', span_id: 'call-1', name: 'litellm_llm_call',
      meta: {
        kind: 'llm',
        input: { messages: [{ role: 'user', content: 'hi there' }] },
        output: { messages: [{ role: 'assistant', content: 'hello' }] },
        metadata: {
          model_name: 'gpt-4o', model_provider: 'openai', id: 'call-1', trace_id: 'trace-1', cache_hit: false, cache_key: null, saved_cache_cost: 0,
          guardrail_information: null, is_streamed_request: false, latency_metrics: { time_to_first_token_ms: 250, litellm_overhead_time_ms: 3 },
          spend_metrics: { response_cost: 0.0012 }, user_api_key_hash: 'abc', user_api_key_team_alias: 'blue', requester_metadata: {},
        },
        error: null,
      },
      start_ns: 100_000_000_000, duration: 1_500_000_000,
      metrics: { input_tokens: 11, output_tokens: 5, total_tokens: 16, total_cost: 0.0012, time_to_first_token: 0.25 },
      status: 'ok',
      tags: [...baseTags, 'request_tag:prod', 'team:blue'],
    });
  });

  it('marks a failed call an error with LiteLLM\'s error fields, and no output', () => {
    const failed = { ...payload, status: 'failure', response: null, error_str: 'litellm.RateLimitError: slow down', error_information: { error_code: '429', error_class: 'RateLimitError', traceback: '', error_message: 'litellm.RateLimitError: slow down' } };
    const span = llmObsSpan(failed, settings);
    expect(span.status).toBe('error');
    expect(span.meta).toMatchObject({ output: { messages: [] }, error: { message: 'litellm.RateLimitError: slow down', type: 'RateLimitError', stack: '' } });
  });

  it('places the span where the request\'s metadata says, and maps the call type to a kind only under a parent', () => {
    const child = llmObsSpan({ ...payload, call_type: 'aembedding', metadata: { requester_metadata: { parent_id: 'p-1', span_id: 's-1', name: 'embed docs' } } }, settings);
    expect(child).toMatchObject({ parent_id: 'p-1', span_id: 's-1', name: 'embed docs', meta: { kind: 'embedding', output: { messages: [] } } });
    expect(llmObsSpan({ ...payload, call_type: 'aembedding' }, settings).meta).toMatchObject({ kind: 'llm' });
    expect(llmObsSpan({ ...payload, call_type: 'aimage_generation', metadata: { requester_metadata: { parent_id: 'p-1' } } }, settings).meta).toMatchObject({ kind: 'task' });
  });

  it('logs a prompt that is not messages as LiteLLM does: each item\'s JSON as an input', () => {
    expect(inputMessages(['a', 'b'])).toEqual([{ input: '"a"' }, { input: '"b"' }]);
    expect(inputMessages('one prompt')).toEqual([{ input: '"one prompt"' }]);
    expect(inputMessages(null)).toEqual([]);
  });
});

// The gateway's own payload for a call (worker/telemetry/standard/payload.ts), as this logger's queue carries it.
function gatewayPayload(body: Record<string, unknown>, options: { messageLoggingOff?: boolean; contentChars?: number; responseText?: string } = {}) {
  const none = { get: () => null, forEach: () => undefined };
  const call: StandardCall = {
    record: {
      request_id: 'call-9', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.001, prompt_tokens: 3, completion_tokens: 2, total_tokens: 5,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: '2026-11-27T10:00:00.500Z',
      model: 'gpt-4o', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1',
      metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: '',
    },
    endpoint: 'chat', body, stream: false, headers: none, outcome: { responseText: options.responseText ?? 'the secret answer' },
  };
  return buildStandardPayload(call, {
    turnOffMessageLogging: false, callbackMessageLoggingOff: options.messageLoggingOff ?? false, redactUserApiKeyInfo: false,
    redactMessagesInExceptions: false, contentChars: options.messageLoggingOff ? 0 : options.contentChars ?? 16 * 1024,
  });
}

describe('the datadog_llm_observability span of a gateway payload', () => {
  // `name` is free-form (often a person's): never kept through a cut, so a cut span is LiteLLM's default name.
  const placed = { parent_id: 'parent-3', span_id: 'span-3', name: 'Ada Lovelace' };
  const cutPlace = { parent_id: 'parent-3', span_id: 'span-3', name: 'litellm_llm_call' };

  it('keeps its place in the trace when message logging is off for it, with the prompt, answer, span name and other metadata left out', () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'the secret prompt' }], metadata: { ...placed, note: 'a secret note' } };
    const span = llmObsSpan(gatewayPayload(body, { messageLoggingOff: true }), settings);
    expect(span).toMatchObject({
      ...cutPlace,
      meta: {
        kind: 'llm',
        input: { messages: [{ role: 'user', content: 'redacted-by-litellm' }] },
        output: { messages: [{ role: 'assistant', content: 'redacted-by-litellm' }] },
      },
    });
    expect(JSON.stringify(span)).not.toMatch(/secret|Lovelace/);
  });

  it('keeps its place when the client\'s metadata is cut for its size, and shows a prompt cut for its size as one input marked truncated', () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(500) }], metadata: { ...placed, note: 'y'.repeat(500) } };
    const span = llmObsSpan(gatewayPayload(body, { contentChars: 100 }), settings);
    expect(span).toMatchObject(cutPlace);
    const input = (span.meta as { input: { messages: { input: string }[] } }).input.messages;
    expect(input).toHaveLength(1);
    expect(JSON.parse(input[0]!.input)).toMatchObject({ truncated: true, original_chars: expect.any(Number), head: expect.stringMatching(/^\[\{"role":"user"/) });
  });

  it('shows an answer cut for its size as the assistant\'s message: its head, marked with its length', () => {
    const span = llmObsSpan(gatewayPayload({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { contentChars: 100, responseText: 'z'.repeat(500) }), settings);
    expect((span.meta as { output: unknown }).output).toEqual({ messages: [{ role: 'assistant', content: `${'z'.repeat(100)}...(truncated, 500 characters)` }] });
  });
});

describe('the datadog_llm_observability span\'s tool calls', () => {
  it('are LiteLLM\'s flat input_/output_tool_calls.<i>.* metadata keys, object arguments as JSON', () => {
    const call = (id: string, name: string, args: unknown) => ({ id, type: 'function', function: { name, arguments: args } });
    const withTools = {
      ...payload,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [call('in-0', 'lookup', '{"city":"Paris"}'), call('in-1', 'convert', { unit: 'C' })] },
        { role: 'tool', tool_call_id: 'in-0', content: '21' },
      ],
      response: { choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call('out-0', 'report', '{"t":21}')] } }] },
    };
    const metadata = (llmObsSpan(withTools, settings).meta as { metadata: Record<string, unknown> }).metadata;
    expect(Object.fromEntries(Object.entries(metadata).filter(([k]) => k.includes('tool_calls.')))).toEqual({
      'input_tool_calls.0.id': 'in-0', 'input_tool_calls.0.type': 'function', 'input_tool_calls.0.function.name': 'lookup', 'input_tool_calls.0.function.arguments': '{"city":"Paris"}',
      'input_tool_calls.1.id': 'in-1', 'input_tool_calls.1.type': 'function', 'input_tool_calls.1.function.name': 'convert', 'input_tool_calls.1.function.arguments': '{"unit":"C"}',
      'output_tool_calls.0.id': 'out-0', 'output_tool_calls.0.type': 'function', 'output_tool_calls.0.function.name': 'report', 'output_tool_calls.0.function.arguments': '{"t":21}',
    });
  });
});
