/**
 * Langfuse callbacks through the gateway: what a call becomes (trace and generation with LiteLLM's
 * fields), failures, redaction and the client's metadata. Delivery (credentials, outages, 207s) is
 * in langfuse-delivery.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { sha256 } from './support/keys.ts';
import { GPT4O_IN, GPT4O_OUT, ISO, useLangfuseStack } from './support/langfuse-stack.ts';

const l = useLangfuseStack();
const { generation, trace, keyWithTeam, chatCallId } = l;

describe('a successful call', () => {
  it('becomes one trace and one generation with LiteLLM\'s fields', async () => {
    const key = await keyWithTeam({ alias: 'lf-key', team: 'team-lf', teamAlias: 'LF Team' });
    const keyClient = new OpenAI({ baseURL: `${l.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await keyClient.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there gateway' }], temperature: 0.2, user: 'end-user-1',
      metadata: { session_id: 'sess-1', feature: 'checkout' },
    }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const cost = 6 * GPT4O_IN + 4 * GPT4O_OUT;

    expect(await trace(l.langfuse, callId)).toEqual({
      id: callId,
      timestamp: ISO,
      name: 'litellm-acompletion',
      userId: 'end-user-1',
      sessionId: 'sess-1',
      input: { messages: [{ role: 'user', content: 'Hello there gateway' }] },
      output: { role: 'assistant', content: 'echo: Hello there gateway' },
      tags: ['user_api_key_alias:lf-key', 'user_api_key_team_alias:LF Team', 'cache_hit:False'],
    });
    const gen = await generation(l.langfuse, callId);
    expect(gen).toEqual({
      id: callId,
      traceId: callId,
      name: 'litellm:lf-key',
      startTime: ISO,
      endTime: ISO,
      completionStartTime: ISO,
      model: 'gpt-4o',
      modelParameters: { temperature: 0.2, user: 'end-user-1' },
      input: { messages: [{ role: 'user', content: 'Hello there gateway' }] },
      output: { role: 'assistant', content: 'echo: Hello there gateway' },
      usage: { input: 6, output: 4, total: 10, unit: 'TOKENS', totalCost: expect.closeTo(cost, 12) },
      usageDetails: { input: 6, output: 4, total: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      level: 'DEFAULT',
      metadata: {
        user_api_key: sha256(key),
        user_api_key_hash: sha256(key),
        user_api_key_alias: 'lf-key',
        user_api_key_user_id: 'user-7',
        user_api_key_team_id: 'team-lf',
        user_api_key_team_alias: 'LF Team',
        user_api_key_org_id: null,
        user_api_key_end_user_id: 'end-user-1',
        model_group: 'gpt-4o',
        api_base: `${l.upstream.url}/v1/chat/completions`,
        litellm_response_cost: expect.closeTo(cost, 12),
        cache_hit: false,
        hidden_params: {
          model_id: response.headers.get('x-litellm-model-id'),
          api_base: `${l.upstream.url}/v1/chat/completions`,
          response_cost: expect.closeTo(cost, 12),
          custom_llm_provider: 'openai',
          litellm_model_name: 'gpt-4o',
          cache_key: null,
          litellm_overhead_time_ms: expect.any(Number),
        },
        requester_metadata: { session_id: 'sess-1', feature: 'checkout' },
      },
    });
    // Latency: the generation spans the call; a plain answer's first token is its end (as in LiteLLM).
    const start = Date.parse(gen.startTime ?? '');
    const end = Date.parse(gen.endTime ?? '');
    expect(end).toBeGreaterThanOrEqual(start);
    expect(gen.completionStartTime).toBe(gen.endTime);
    // One ingestion request per flush, with the default project's credentials.
    expect(l.langfuse.requests.every((r) => r.authorized)).toBe(true);
    expect(l.teamLangfuse.events.find((e) => e.body.id === callId)).toBeUndefined();
  });

  it('streamed: usage from the stream and the time of the first token', async () => {
    l.upstream.enqueue({ kind: 'echo', delayMs: 30, intervalMs: 40 });
    const stream = await l.client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three' }] }).withResponse();
    const callId = stream.response.headers.get('x-litellm-call-id') ?? '';
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: one two three');

    const gen = await generation(l.langfuse, callId);
    expect(gen).toMatchObject({
      name: 'litellm-acompletion',
      modelParameters: { stream: true },
      output: { role: 'assistant', content: 'echo: one two three' },
      usage: { input: 6, output: 4, total: 10, unit: 'TOKENS', totalCost: expect.closeTo(6 * GPT4O_IN + 4 * GPT4O_OUT, 12) },
      level: 'DEFAULT',
    });
    const start = Date.parse(gen.startTime ?? '');
    const first = Date.parse(gen.completionStartTime ?? '');
    const end = Date.parse(gen.endTime ?? '');
    expect(first).toBeGreaterThan(start);
    // Three more chunks 40 ms apart follow the first.
    expect(end - first).toBeGreaterThanOrEqual(80);
    expect((await trace(l.langfuse, callId)).output).toEqual({ role: 'assistant', content: 'echo: one two three' });
  });
});

describe('a failed call', () => {
  it('is a generation at level ERROR with the error as its status message', async () => {
    const err = await l.client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'anyone there?' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const callId = (err as InstanceType<typeof OpenAI.InternalServerError>).headers.get('x-litellm-call-id') ?? '';
    const gen = await generation(l.langfuse, callId);
    expect(gen.level).toBe('ERROR');
    expect(gen.statusMessage).toMatch(/^litellm\.APIConnectionError: OpenAIException - /);
    expect(gen.output).toBe(gen.statusMessage);
    expect(gen.input).toEqual({ messages: [{ role: 'user', content: 'anyone there?' }] });
    expect(gen.usage).toBeUndefined();
    expect(gen.completionStartTime).toBeUndefined();
    const t = await trace(l.langfuse, callId);
    expect(t).toMatchObject({ name: 'litellm-acompletion', input: { messages: [{ role: 'user', content: 'anyone there?' }] } });
    expect(t.output).toBeUndefined();
  });
});

describe('redaction', () => {
  it('mask_input and mask_output replace the prompt and the answer', async () => {
    const callId = await chatCallId({ metadata: { mask_input: true } });
    const gen = await generation(l.langfuse, callId);
    expect(gen.input).toBe('redacted-by-litellm');
    expect(gen.output).toEqual({ role: 'assistant', content: 'echo: secret words here' });
    expect((await trace(l.langfuse, callId)).input).toBe('redacted-by-litellm');

    const masked = await chatCallId({ metadata: { mask_output: true } });
    const gen2 = await generation(l.langfuse, masked);
    expect(gen2.input).toEqual({ messages: [{ role: 'user', content: 'secret words here' }] });
    expect(gen2.output).toBe('redacted-by-litellm');
    expect((await trace(l.langfuse, masked)).output).toBe('redacted-by-litellm');
  });

  it('message logging turned off (here by the request header) logs LiteLLM\'s redacted messages', async () => {
    const callId = await chatCallId({}, { 'x-litellm-enable-message-redaction': 'true' });
    const gen = await generation(l.langfuse, callId);
    expect(gen.input).toEqual({ messages: [{ role: 'user', content: 'redacted-by-litellm' }] });
    expect(gen.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
    expect(JSON.stringify(l.langfuse.events.filter((e) => e.body.id === callId))).not.toContain('secret words');
  });
});

describe('request metadata', () => {
  it('names the trace and generation, and sets session, user, tags and version', async () => {
    const callId = await chatCallId({
      tags: ['checkout', 'beta'],
      metadata: {
        trace_id: 'trace-abc', trace_name: 'checkout-flow', generation_name: 'summarise', generation_id: 'gen-abc',
        session_id: 'sess-9', trace_user_id: 'alice', trace_metadata: { app: 'shop' }, version: 'v3', tags: ['meta-tag'],
      },
    });
    const gen = await generation(l.langfuse, 'gen-abc');
    expect(gen).toMatchObject({ id: 'gen-abc', traceId: 'trace-abc', name: 'summarise', version: 'v3' });
    expect((gen.metadata as { requester_metadata: unknown }).requester_metadata).toMatchObject({ trace_id: 'trace-abc', generation_name: 'summarise' });
    const t = await trace(l.langfuse, 'trace-abc');
    expect(t).toMatchObject({ name: 'checkout-flow', sessionId: 'sess-9', userId: 'alice', metadata: { app: 'shop' }, version: 'v3' });
    expect(t.tags).toEqual(['checkout', 'beta', 'meta-tag', 'cache_hit:False']);
    expect(l.langfuse.generations().find((g) => g.id === callId)).toBeUndefined();
  });

  it('existing_trace_id adds a generation to a trace without touching it, or updates only update_trace_keys', async () => {
    const first = await chatCallId({ metadata: { existing_trace_id: 'trace-existing-1' } });
    const gen = await generation(l.langfuse, first);
    expect(gen.traceId).toBe('trace-existing-1');
    expect(l.langfuse.traces().find((t) => t.id === first || t.id === 'trace-existing-1')).toBeUndefined();

    const second = await chatCallId({ metadata: { existing_trace_id: 'trace-existing-1', update_trace_keys: ['output', 'trace_user_id'], trace_user_id: 'bob' } });
    expect((await generation(l.langfuse, second)).traceId).toBe('trace-existing-1');
    const update = await trace(l.langfuse, 'trace-existing-1');
    expect(update).toEqual({ id: 'trace-existing-1', output: { role: 'assistant', content: 'echo: secret words here' }, userId: 'bob' });
  });

  it('reads langfuse_* headers as metadata, over the body\'s', async () => {
    const callId = await chatCallId({ metadata: { trace_name: 'from-body' } }, { langfuse_trace_name: 'from-header', langfuse_generation_name: 'hdr-gen' });
    expect((await trace(l.langfuse, callId)).name).toBe('from-header');
    expect((await generation(l.langfuse, callId)).name).toBe('hdr-gen');
  });
});

