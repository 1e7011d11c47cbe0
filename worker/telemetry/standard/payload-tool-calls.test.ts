import { describe, expect, it } from 'vitest';
import { jsonOutcome } from '../../providers/openai-compatible/answers.ts';
import { relayOpenAIStream } from '../../providers/openai-compatible/sse-stream.ts';
import type { AnswerToolCall, ProviderCall } from '../../providers/types.ts';
import { buildStandardPayload, type StandardCall, type StandardOptions } from './payload.ts';

const none = { get: () => null, forEach: () => undefined };
const weather: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];

function call(over: Partial<StandardCall> = {}): StandardCall {
  return {
    record: {
      request_id: 'call-1', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.001, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: null,
      model: 'gpt-4o', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1',
      metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
    },
    endpoint: 'chat', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'weather in Paris?' }] }, stream: false, headers: none,
    outcome: { responseToolCalls: weather },
    ...over,
  };
}
const options = (over: Partial<StandardOptions> = {}): StandardOptions => ({
  turnOffMessageLogging: false, callbackMessageLoggingOff: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 16 * 1024, ...over,
});

describe('the StandardLoggingPayload of an answer with tool calls', () => {
  it('carries them in the chat completion\'s message, content null and finish_reason tool_calls, as LiteLLM\'s response', () => {
    const p = buildStandardPayload(call(), options());
    expect(p.response).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: weather } }] });
    const both = buildStandardPayload(call({ outcome: { responseText: 'Let me look.', responseToolCalls: weather } }), options());
    expect(both.response).toMatchObject({ choices: [{ message: { content: 'Let me look.', tool_calls: weather } }] });
    // The answer's own reason where it gave one of OpenAI's: a call cut at max_tokens is `length`, not a whole call.
    const cut = buildStandardPayload(call({ outcome: { responseToolCalls: weather, finishReason: 'length' } }), options());
    expect(cut.response).toMatchObject({ choices: [{ finish_reason: 'length' }] });
    const other = buildStandardPayload(call({ outcome: { responseToolCalls: weather, finishReason: 'tool_use' } }), options());
    expect(other.response).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] });
  });

  it('carries a Responses answer\'s as function_call output items', () => {
    const p = buildStandardPayload(call({ endpoint: 'responses', record: { ...call().record, call_type: 'aresponses' } }), options());
    expect(p.response).toMatchObject({ object: 'response', output: [{ type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
  });

  it('carries a Responses answer without tool calls as a Responses object too: its message item, its text bounded', () => {
    const responses = (outcome: StandardCall['outcome']) => call({ endpoint: 'responses', record: { ...call().record, call_type: 'aresponses' }, body: { model: 'gpt-4o', input: 'weather?' }, outcome });
    const p = buildStandardPayload(responses({ responseText: 'Sunny.' }), options());
    expect(p.response).toEqual({
      id: 'call-1', object: 'response', model: 'gpt-4o',
      output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Sunny.' }] }],
      usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
    });
    const long = buildStandardPayload(responses({ responseText: 'y'.repeat(10_000) }), options({ contentChars: 100 }));
    expect(long.response).toMatchObject({ output: [{ content: [{ text: `${'y'.repeat(100)}...(truncated, 10000 characters)` }] }] });
    // Message logging off: the shape kept, the text redacted, no tool call named (as LiteLLM redacts `response.output`).
    const off = buildStandardPayload(responses({ responseText: 'Looking.', responseToolCalls: weather }), options({ turnOffMessageLogging: true }));
    expect(off.response).toMatchObject({ object: 'response', output: [{ type: 'message', content: [{ type: 'output_text', text: 'redacted-by-litellm' }] }] });
    expect(JSON.stringify(off)).not.toMatch(/get_weather|Paris"|Looking/);
    expect(buildStandardPayload(responses({}), options()).response).toBeNull();
  });

  it('withholds every tool call name and argument when message logging is off, and has no response for a counts-only logger or a failure', () => {
    const off = buildStandardPayload(call(), options({ turnOffMessageLogging: true }));
    expect(off.response).toMatchObject({ choices: [{ message: { role: 'assistant', content: 'redacted-by-litellm' } }] });
    expect(JSON.stringify(off)).not.toMatch(/get_weather|Paris"/);
    expect(JSON.stringify(buildStandardPayload(call(), options({ callbackMessageLoggingOff: true })))).not.toMatch(/get_weather/);
    expect(buildStandardPayload(call(), options({ countsOnly: true })).response).toBeNull();
    expect(buildStandardPayload(call({ error: { message: 'boom', type: 'api_error', status: 500 } }), options()).response).toBeNull();
  });

  it('bounds a huge arguments string with the answer\'s contentChars, so the payload still fits its queue message', () => {
    const huge: AnswerToolCall[] = [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(1_000_000) } }];
    const p = buildStandardPayload(call({ outcome: { responseText: 'writing', responseToolCalls: huge } }), options({ contentChars: 4096 }));
    expect(JSON.stringify(p.response).length).toBeLessThan(5000);
    expect(JSON.stringify(p.response)).toContain('(truncated, 1000000 characters)');
    expect(JSON.stringify(p.response)).toContain('write_file');
  });

  it('states the whole length of arguments the kept answer had already cut, for a plain and a streamed answer alike', async () => {
    const write = { id: 'call_1', type: 'function', function: { name: 'write_file', arguments: 'z'.repeat(100_000) } };
    const answer = { choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [write] } }] };
    const plain = jsonOutcome(new TextEncoder().encode(JSON.stringify(answer)).buffer as ArrayBuffer, { endpoint: 'chat', keepText: true, promptTokenEstimate: 3, body: {} } as unknown as ProviderCall);
    const chunk = { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...write }] }, finish_reason: null }] };
    const relayed = relayOpenAIStream(new Response(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`).body!, {
      clientWantsUsage: false, usageInjected: false, promptTokenEstimate: 3, keepText: true, label: 'OpenAI', provider: 'openai',
    });
    await new Response(relayed.body).text();
    for (const outcome of [plain, await relayed.outcome]) {
      const logged = JSON.stringify(buildStandardPayload(call({ outcome }), options()).response);
      expect(logged).toContain(`${'z'.repeat(100)}...(truncated, 100000 characters)`);
      expect(logged).not.toMatch(/truncated, 65\d+ characters/);
    }
  });
});
