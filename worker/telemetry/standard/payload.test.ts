import { describe, expect, it } from 'vitest';
import { isSecretParam } from '../secret-params.ts';
import { buildStandardPayload, publicApiBase, type StandardCall, type StandardOptions } from './payload.ts';

const headers = (values: Record<string, string> = {}) => {
  const h = new Headers(values);
  return { get: (n: string) => h.get(n), forEach: (f: (v: string, n: string) => void) => h.forEach(f) };
};

function call(over: Partial<StandardCall> = {}): StandardCall {
  return {
    record: {
      request_id: 'call-1', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.0025, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:02.500Z', completionStartTime: '2026-11-27T10:00:00.500Z',
      model: 'gpt-4o', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai',
      api_base: 'https://user:pw@example.test/v1/chat/completions?api-key=provider-secret#x',
      metadata: { user_api_key_alias: 'alias', user_api_key_team_id: 'team-1', spend_logs_metadata: { job: 'nightly' } },
      cache_hit: false, cache_key: null, request_tags: ['prod'], end_user: 'customer-1',
    },
    endpoint: 'chat',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }], temperature: 0.2, metadata: { tags: ['prod'], run: 'r1' } },
    stream: true,
    headers: headers(),
    outcome: { responseText: 'general kenobi' },
    ...over,
  };
}

const options = (over: Partial<StandardOptions> = {}): StandardOptions => ({
  turnOffMessageLogging: false, callbackMessageLoggingOff: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 16 * 1024, ...over,
});

describe('buildStandardPayload', () => {
  it('makes LiteLLM\'s fields: epoch-second times, response_time to the first chunk for a stream, the key hash, never a credential in api_base', () => {
    const p = buildStandardPayload(call(), options());
    expect(p).toMatchObject({
      id: 'call-1', trace_id: 'call-1', call_type: 'acompletion', stream: true, status: 'success', response_cost: 0.0025,
      startTime: Date.parse('2026-11-27T10:00:00.000Z') / 1000, endTime: Date.parse('2026-11-27T10:00:02.500Z') / 1000,
      model_group: 'gpt-4o', model_id: 'dep-1', api_base: 'https://example.test/v1/chat/completions', request_tags: ['prod'], end_user: 'customer-1',
      metadata: { user_api_key_hash: 'a'.repeat(64), user_api_key_alias: 'alias', user_api_key_team_id: 'team-1', user_api_key_end_user_id: 'customer-1', spend_logs_metadata: { job: 'nightly' } },
      messages: [{ role: 'user', content: 'hello there' }], model_parameters: { temperature: 0.2 },
      hidden_params: { model_id: 'dep-1', api_base: 'https://example.test/v1/chat/completions', litellm_model_name: 'gpt-4o' },
    });
    expect(p.response_time).toBeCloseTo(0.5, 6);
    expect((p.metadata as Record<string, unknown>).requester_metadata).toMatchObject({ run: 'r1' });
    expect(JSON.stringify(p)).not.toContain('provider-secret');
    expect(JSON.stringify(p)).not.toContain('pw@');
    expect(publicApiBase('not a url')).toBe('');
  });

  it('withholds messages and answer when message logging is off, unless the request\'s litellm-disable-message-redaction header says otherwise', () => {
    const off = buildStandardPayload(call(), options({ turnOffMessageLogging: true }));
    expect(off.messages).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
    expect(JSON.stringify(off)).not.toMatch(/hello there|general kenobi/);
    const allowed = buildStandardPayload(call({ headers: headers({ 'litellm-disable-message-redaction': 'true' }) }), options({ turnOffMessageLogging: true }));
    expect(allowed.messages).toEqual([{ role: 'user', content: 'hello there' }]);
    // callback_settings.<name>.message_logging: false is not overridden by the header.
    const callbackOff = buildStandardPayload(call({ headers: headers({ 'litellm-disable-message-redaction': 'true' }) }), options({ callbackMessageLoggingOff: true }));
    expect(JSON.stringify(callbackOff)).not.toMatch(/hello there|general kenobi/);
  });

  it('keeps the Braintrust routing keys (project_id, project_name, span_name) of metadata cut by message logging off or its size', () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], metadata: { project_id: 'bt-proj-1', project_name: 'bt', span_name: 'bot', note: 'x'.repeat(300) } };
    const off = buildStandardPayload(call({ body }), options({ contentChars: 0 }));
    expect((off.metadata as Record<string, unknown>).requester_metadata).toEqual({ project_id: 'bt-proj-1', project_name: 'bt', span_name: 'bot' });
    const large = buildStandardPayload(call({ body }), options({ contentChars: 100 }));
    expect((large.metadata as Record<string, unknown>).requester_metadata).toMatchObject({ truncated: true, project_id: 'bt-proj-1', project_name: 'bt', span_name: 'bot' });
  });

  it('keeps a bounded copy of the Opik routing object (project, thread, tags, span ids; strings only) through the cut', () => {
    const opik = { project_name: 'op', thread_id: 'th-1', tags: ['a', 7, 'x'.repeat(300), ...Array.from({ length: 60 }, (_, i) => `t${i}`)], current_span_data: { trace_id: 'tr', id: 'sp', input: 'the prompt' }, note: 'dropped' };
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], metadata: { opik, note: 'x'.repeat(300) } };
    for (const contentChars of [0, 100]) {
      const kept = (buildStandardPayload(call({ body }), options({ contentChars })).metadata as Record<string, any>).requester_metadata.opik;
      expect(kept).toEqual({ project_name: 'op', thread_id: 'th-1', tags: ['a', ...Array.from({ length: 49 }, (_, i) => `t${i}`)], current_span_data: { trace_id: 'tr', id: 'sp' } });
    }
  });

  it('drops user_api_key_* under redact_user_api_key_info, and cuts long content to fit', () => {
    const p = buildStandardPayload(call({ body: { messages: [{ role: 'user', content: 'x'.repeat(50_000) }] } }), options({ redactUserApiKeyInfo: true, contentChars: 1000 }));
    expect(Object.keys(p.metadata as object).filter((k) => k.startsWith('user_api_key'))).toEqual([]);
    expect(JSON.stringify(p)).not.toContain('a'.repeat(64));
    expect(p.messages).toMatchObject({ truncated: true });
    expect(JSON.stringify(p).length).toBeLessThan(5000);
  });

  it('describes a failure with error_information, its message withheld under redact_messages_in_exceptions', () => {
    const error = { message: 'litellm.RateLimitError: OpenAIException - quota for prompt "hello there"', type: 'rate_limit_error', status: 429, provider: 'openai' };
    const p = buildStandardPayload(call({ error, outcome: undefined }), options({ redactMessagesInExceptions: true }));
    expect(p).toMatchObject({
      status: 'failure', response: null,
      error_information: { error_code: '429', error_class: 'RateLimitError', llm_provider: 'openai', traceback: '', error_message: 'litellm.RateLimitError: OpenAIException - redacted-by-litellm' },
    });
    expect(p.error_str).toBe('litellm.RateLimitError: OpenAIException - redacted-by-litellm');
  });

  it('never copies a credential a client sent in the body into model_parameters (nor the Langfuse or OpenInference parameters: one list)', () => {
    const secrets = {
      langfuse_secret_key: 'sk-lf-secret-1', langsmith_api_key: 'ls-secret-2', aws_secret_access_key: 'aws-secret-3', aws_session_token: 'aws-token-4',
      vertex_credentials: '{"private_key":"pk-5"}', azure_ad_token: 'ad-token-6', api_key: 'sk-7', extra_headers: { authorization: 'Bearer hdr-8' },
      headers: { 'x-api-key': 'hdr-9' }, api_base: 'https://u:p@x.test', client_secret: 'cs-10', db_password: 'pw-11',
    };
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3, max_tokens: 12, max_completion_tokens: 13, top_p: 1, ...secrets };
    const p = buildStandardPayload(call({ body }), options());
    expect(p.model_parameters).toEqual({ temperature: 0.3, max_tokens: 12, max_completion_tokens: 13, top_p: 1 });
    const raw = JSON.stringify(p);
    for (const value of ['sk-lf-secret-1', 'ls-secret-2', 'aws-secret-3', 'aws-token-4', 'pk-5', 'ad-token-6', 'sk-7', 'hdr-8', 'hdr-9', 'cs-10', 'pw-11']) expect(raw).not.toContain(value);
    for (const name of Object.keys(secrets)) expect(isSecretParam(name)).toBe(true);
    for (const name of ['temperature', 'max_tokens', 'max_output_tokens', 'top_k', 'logit_bias', 'response_format', 'stop']) expect(isSecretParam(name)).toBe(false);
  });

  it('redacts as LiteLLM does: a chat answer keeps its shape, any other text answer becomes {text: "redacted-by-litellm"}', () => {
    const chat = buildStandardPayload(call(), options({ turnOffMessageLogging: true }));
    expect(chat.response).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'redacted-by-litellm' } }] });
    const completion = buildStandardPayload(call({ endpoint: 'completion', body: { prompt: 'secret prompt' } }), options({ callbackMessageLoggingOff: true }));
    expect(completion.response).toEqual({ text: 'redacted-by-litellm' });
    expect(completion.messages).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
    expect(JSON.stringify(completion)).not.toMatch(/secret prompt|general kenobi/);
  });

  it('gives a counts-only logger (lago, openmeter) no prompt or answer, not even the answer\'s length, when the call kept its text for others', () => {
    const answer = 'a'.repeat(5000);
    // The size a counts-only logger's payload is made at (registry.ts) would otherwise leave "...(truncated, 5000 characters)".
    for (const over of [{}, { turnOffMessageLogging: true }]) {
      const p = buildStandardPayload(call({ outcome: { responseText: answer } }), options({ countsOnly: true, contentChars: 0, ...over }));
      expect([p.messages, p.response]).toEqual([null, null]);
      expect(JSON.stringify(p)).not.toMatch(/5000|hello there|redacted-by-litellm/);
      expect(p).toMatchObject({ response_cost: 0.0025, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, end_user: 'customer-1' });
    }
  });

  it('keeps OpenAI\'s prompt_cache_key and safety_identifier, and drops a credential nested in extra_body or any object, at any depth', () => {
    const body = {
      model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: 'cache-user-1', safety_identifier: 'hashed-user-2',
      extra_body: { api_key: 'nested-sk-1', region: 'eu', vertex: { vertex_credentials: 'nested-pk-2', project: 'p' }, list: [{ client_secret: 'nested-cs-3', n: 1 }] },
    };
    const p = buildStandardPayload(call({ body }), options());
    expect(p.model_parameters).toEqual({
      prompt_cache_key: 'cache-user-1', safety_identifier: 'hashed-user-2',
      extra_body: { region: 'eu', vertex: { project: 'p' }, list: [{ n: 1 }] },
    });
    for (const value of ['nested-sk-1', 'nested-pk-2', 'nested-cs-3']) expect(JSON.stringify(p)).not.toContain(value);
    expect(isSecretParam('prompt_cache_key')).toBe(false);
    expect(isSecretParam('safety_identifier')).toBe(false);
  });

  it('keeps a rerank\'s query and documents (and a chat\'s prediction) out of model_parameters, and cuts any other large parameter', () => {
    const documents = Array.from({ length: 40 }, (_, i) => `document ${i} ${'x'.repeat(4000)}`);
    const rerank = buildStandardPayload(call({ endpoint: 'rerank', body: { model: 'cohere-rerank', query: 'which one?', documents, top_n: 3 } }), options());
    expect(rerank.model_parameters).toEqual({ top_n: 3 });
    expect(JSON.stringify(rerank).length).toBeLessThan(20_000);
    const schema = { type: 'json_schema', json_schema: { name: 'big', schema: { description: 'y'.repeat(100_000) } } };
    const chat = buildStandardPayload(call({ body: {
      model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], prediction: { type: 'content', content: 'z'.repeat(50_000) },
      response_format: schema, safety_identifier: 's'.repeat(50_000), litellm_trace_id: 't'.repeat(50_000),
    } }), options());
    const params = chat.model_parameters as Record<string, any>;
    expect(params.prediction).toBeUndefined();
    expect(params.response_format).toMatchObject({ truncated: true, original_chars: JSON.stringify(schema).length });
    expect(params.safety_identifier).toMatchObject({ truncated: true, original_chars: 50_000 });
    // The gateway's own parameter is not the model's; one too long to be an id leaves the call's id as the trace.
    expect(params.litellm_trace_id).toBeUndefined();
    expect(chat.trace_id).toBe('call-1');
    expect(JSON.stringify(chat).length).toBeLessThan(60_000);
    // The last round of fitting (no content at all) keeps only numbers and booleans.
    expect(buildStandardPayload(call({ body: { model: 'gpt-4o', response_format: schema, top_p: 1 } }), options({ contentChars: 0 })).model_parameters).toEqual({ top_p: 1 });
  });
});
