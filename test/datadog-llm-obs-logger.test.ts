import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlmObs, LLM_OBS_PATH, type Span, startFakeLlmObs } from './fakes/datadog-llm-obs.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { callbackModels } from './support/callback-config.ts';
import { eventually, seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `datadog_llm_observability` callback through the real stack: the admin Worker's callback consumer
// sends each call, success or failure, as a span to a fake Datadog LLM Observability intake on loopback
// (DD_BASE_URL, as LiteLLM's tests point it), which checks the DD-API-KEY header and the intake's body.

const DD_API_KEY = 'dd-llmobs-e2e-api-key-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-dd-llmobs-0001';

let upstream: FakeUpstream;
let intake: FakeLlmObs;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  intake = await startFakeLlmObs({ apiKey: DD_API_KEY });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["datadog_llm_observability"]
`,
    env: { FAKE_OPENAI_KEY: UPSTREAM_KEY, DD_API_KEY, DD_BASE_URL: intake.url, DD_LLMOBS_ML_APP: 'support-bot', DD_ENV: 'e2e', DD_SERVICE: 'tollgate-e2e' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await intake?.close();
  await upstream?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spansOf = (callId: string) => intake.spans().filter((s) => s.meta?.metadata?.id === callId);
const spanOf = (callId: string): Promise<Span> => eventually(async () => spansOf(callId)[0]);

async function chat(content: string, metadata?: Record<string, string>, key?: string) {
  const apiKey = key ?? await seedKey(stack.db.url, { userId: 'user-dd' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...(metadata ? { metadata } : {}) } as never).withResponse();
  return { key: apiKey, data: data as OpenAI.Chat.Completions.ChatCompletion, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the datadog_llm_observability callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /datadog/i.test(w))).toEqual([]);
  });

  it('logs a call as LiteLLM\'s span: a root llm span with the prompt and answer, model, tokens, cost and tags, under DD_LLMOBS_ML_APP', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-dd-1', alias: 'dd key' });
    const { data, callId } = await chat('what is a span?', undefined, key);
    const span = await spanOf(callId);
    expect(span).toMatchObject({
      parent_id: 'undefined', trace_id: callId, span_id: callId, name: 'litellm_llm_call', status: 'ok',
      meta: {
        kind: 'llm', error: null,
        input: { messages: [{ role: 'user', content: 'what is a span?' }] },
        output: { messages: [{ role: 'assistant', content: data.choices[0]!.message.content }] },
        metadata: { model_name: 'gpt-4o', model_provider: 'openai', id: callId, is_streamed_request: false, user_api_key_hash: sha256(key), user_api_key_alias: 'dd key' },
      },
      metrics: { input_tokens: data.usage!.prompt_tokens, output_tokens: data.usage!.completion_tokens, total_tokens: data.usage!.total_tokens },
    });
    expect(span.metrics.total_cost).toBeGreaterThan(0);
    expect(span.meta.metadata.spend_metrics).toEqual({ response_cost: span.metrics.total_cost });
    expect(span.start_ns).toBeGreaterThan(Date.now() * 1e6 - 120e9);
    expect(span.duration).toBeGreaterThanOrEqual(0);
    expect(span.tags).toEqual(expect.arrayContaining(['env:e2e', 'service:tollgate-e2e']));
    const request = intake.requests.find((r) => r.spans.includes(span))!;
    expect(request).toMatchObject({ path: LLM_OBS_PATH, mlApp: 'support-bot' });
    expect(request.headers['dd-api-key']).toBe(DD_API_KEY);
    // No credential travels in a span: not the Datadog key, the caller's key or the provider's.
    const everything = JSON.stringify(intake.requests.map((r) => r.spans));
    for (const secret of [DD_API_KEY, key, UPSTREAM_KEY]) expect(everything).not.toContain(secret);
  });

  it('places the span in the trace the request\'s metadata names (parent_id, span_id, name)', async () => {
    const { callId } = await chat('a child span', { parent_id: 'parent-span-7', span_id: 'my-span-7', name: 'answer_question' });
    const span = await spanOf(callId);
    expect(span).toMatchObject({ parent_id: 'parent-span-7', span_id: 'my-span-7', name: 'answer_question', meta: { kind: 'llm' } });
  });

  it('logs a failed call as an error span with LiteLLM\'s error fields', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-dd-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    expect(await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.APIError);
    const span = await eventually(async () => intake.spans().find((s) => s.meta?.metadata?.user_api_key_user_id === 'user-dd-fail'));
    expect(span).toMatchObject({ status: 'error', meta: { output: { messages: [] }, error: { type: expect.any(String), message: expect.any(String) } } });
    expect(span.meta.error.message.length).toBeGreaterThan(0);
  });

  it('sends again, once, what the intake answered 500, and the span arrives once', async () => {
    const refusedBefore = intake.refused.length;
    intake.failNext(500, 1);
    const { callId } = await chat('during an outage');
    await spanOf(callId);
    expect(intake.refused.slice(refusedBefore)).toEqual([500]);
    await sleep(1500);
    expect(spansOf(callId)).toHaveLength(1);
  });

  it('tests it through /health/services, and never quotes the key the intake echoes', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=datadog_llm_observability`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const ok = await ask();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'success' });
    expect(intake.spans().some((s) => s.meta?.input?.messages?.[0]?.content === 'Hey, how\'s it going?')).toBe(true);
    intake.failNext(500, 1, { echo: true });
    const res = await ask();
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).toContain('Datadog LLM Observability');
    expect(text).not.toContain(DD_API_KEY);
  });
});
