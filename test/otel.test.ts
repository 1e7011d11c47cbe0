import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { attributesOf, type FakeCollector, type Span, startFakeCollector } from './fakes/otel-collector.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `otel` callback: each call as an OpenTelemetry span, posted by the admin Worker's consumer to an
// OTLP/HTTP collector (a fake one on loopback, speaking the protocol's JSON encoding).

let upstream: FakeUpstream;
let collector: FakeCollector;
let langfuse: FakeLangfuse;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  collector = await startFakeCollector();
  langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-otel', secretKey: 'sk-lf-otel-secret' });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  # Both callbacks: their messages share the Queue and the consumer, and neither may hold the other up.
  callbacks: ["otel", "langfuse"]
`,
    env: {
      FAKE_OPENAI_KEY: 'sk-upstream-openai-otel-0001',
      OTEL_EXPORTER: 'otlp_http',
      // A base URL: the consumer adds /v1/traces, as LiteLLM's exporter does.
      OTEL_ENDPOINT: collector.url,
      OTEL_HEADERS: 'x-honeycomb-team=hc-secret-0001,x-note=a%20b',
      OTEL_SERVICE_NAME: 'tollgate-test',
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      LANGFUSE_SECRET_KEY: langfuse.secretKey,
      LANGFUSE_HOST: langfuse.url,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await collector?.close();
  await langfuse?.close();
  await upstream?.close();
});
afterEach(() => {
  expect(collector.malformed).toEqual([]);
});

const spanOf = (callId: string) => eventually(async () => collector.spans().find((s) => attributesOf(s)['gen_ai.response.id'] === callId));

describe('the otel callback', () => {
  it('sends each call as a span of the caller\'s trace, with LiteLLM\'s gen_ai and metadata attributes, the prompt and the answer', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-otel', alias: 'otel-key' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o', user: 'customer-5', temperature: 0.5, messages: [{ role: 'user', content: 'what is a span?' }],
    }, { headers: { traceparent } }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const span = await spanOf(callId);
    expect(span).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7', name: 'litellm_request', kind: 2, status: { code: 1 } });
    const row = await eventually(() => spendLogRow(stack.db.url, callId));
    const attrs = attributesOf(span);
    expect(attrs).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o',
      'gen_ai.request.temperature': 0.5, 'llm.is_streaming': 'false', 'gen_ai.user': 'customer-5',
      'gen_ai.usage.input_tokens': row.prompt_tokens, 'gen_ai.usage.output_tokens': row.completion_tokens, 'gen_ai.usage.total_tokens': row.total_tokens,
      'metadata.user_api_key_hash': sha256(key), 'metadata.user_api_key_alias': 'otel-key', 'metadata.user_api_key_user_id': 'user-otel',
      'metadata.model_group': 'gpt-4o',
    });
    expect(attrs['gen_ai.cost.total_cost']).toBeCloseTo(Number(response.headers.get('x-litellm-response-cost')), 12);
    expect(JSON.parse(attrs['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', content: 'what is a span?' }]);
    expect(JSON.parse(attrs['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', content: data.choices[0]?.message.content }]);
    expect(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano)).toBe(true);
    const request = collector.requests.find((r) => r.spans.includes(span as Span))!;
    expect(request.resource).toMatchObject({ 'service.name': 'tollgate-test', 'deployment.environment': 'production' });
    expect(request.headers).toMatchObject({ 'x-honeycomb-team': 'hc-secret-0001', 'x-note': 'a b' });
    // No key in any span: neither the client's nor the provider's.
    expect(request.raw).not.toContain(key);
    expect(request.raw).not.toContain('sk-upstream-openai-otel-0001');
  });

  it('marks a failed call\'s span as an error; a call without traceparent starts a trace of its own; withheld messages are not sent', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-otel-2' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).withResponse().catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const errorSpan = await eventually(async () => collector.spans().find((s) => attributesOf(s)['metadata.user_api_key_user_id'] === 'user-otel-2'));
    expect(errorSpan.status).toMatchObject({ code: 2, message: expect.stringContaining('Connection') });
    expect(errorSpan.parentSpanId).toBeUndefined();
    expect(attributesOf(errorSpan)['error.type']).toBeTruthy();

    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'keep this private' }] }, {
      headers: { 'x-litellm-enable-message-redaction': 'true' },
    }).withResponse();
    const span = await spanOf(response.headers.get('x-litellm-call-id') ?? '');
    expect(attributesOf(span)['gen_ai.input.messages']).toBeUndefined();
    expect(attributesOf(span)['gen_ai.output.messages']).toBeUndefined();
    expect(JSON.stringify(span)).not.toContain('keep this private');
  });

  it('never holds a request or Langfuse up when the collector is down; the spans land once it is back', async () => {
    const before = collector.failuresServed();
    collector.failNext(503, 1);
    const key = await seedKey(stack.db.url, { userId: 'user-otel-3' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'during an outage' }] }).withResponse();
    expect(response.status).toBe(200);
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    // Langfuse gets the call's trace while the collector refuses its span...
    await eventually(async () => langfuse.generations().find((g) => (g.metadata as { user_api_key_user_id?: string } | undefined)?.user_api_key_user_id === 'user-otel-3'));
    await eventually(async () => (collector.failuresServed() > before ? true : undefined));
    // ...and the span lands on the retry.
    const span = await spanOf(callId);
    expect(attributesOf(span)['metadata.user_api_key_user_id']).toBe('user-otel-3');
  });

  it('keeps a span valid whatever numbers a client sends (an int64 is never written past its range)', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-otel-4' });
    const { response } = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({
      model: 'gpt-4o', max_tokens: 1e21, temperature: 1, messages: [{ role: 'user', content: 'big numbers' }],
    }).withResponse();
    const span = await spanOf(response.headers.get('x-litellm-call-id') ?? '');
    const maxTokens = span.attributes.find((a) => a.key === 'gen_ai.request.max_tokens');
    expect(maxTokens?.value).toEqual({ doubleValue: 1e21 });
    // A temperature is a double even when it is whole, so a backend types the attribute once.
    expect(span.attributes.find((a) => a.key === 'gen_ai.request.temperature')?.value).toEqual({ doubleValue: 1 });
  });
});

describe('GET /health/services?service=otel', () => {
  it('sends the collector a test span now, and says so when the collector refuses it', async () => {
    const check = () => fetch(`${stack.url}/health/services?service=otel`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const ok = await check();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'success' });
    expect(collector.spans().some((s) => s.name === 'litellm-health-check')).toBe(true);
    collector.failNext(503, 1);
    const refused = await check();
    expect(refused.status).toBe(503);
    const body = await refused.text();
    expect(body).toContain('did not take the test span');
    expect(body).not.toContain('hc-secret-0001');
  });
});

describe('the otel callback under turn_off_message_logging, redact_user_api_key_info and redact_messages_in_exceptions', () => {
  let quiet: TestStack;
  beforeAll(async () => {
    quiet = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: upstream-key}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: upstream-key}
router_settings:
  num_retries: 0
litellm_settings:
  success_callback: ["otel"]
  failure_callback: ["otel"]
  turn_off_message_logging: true
  redact_user_api_key_info: true
general_settings:
  redact_messages_in_exceptions: true
`,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
    });
  });
  afterAll(async () => {
    await quiet?.stop();
  });

  it('sends neither the messages nor the key\'s details, and only the class of an error', async () => {
    const key = await seedKey(quiet.db.url, { userId: 'user-quiet', alias: 'quiet-key' });
    const client = new OpenAI({ baseURL: `${quiet.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a private question' }] }).withResponse();
    const span = await spanOf(response.headers.get('x-litellm-call-id') ?? '');
    const attrs = attributesOf(span);
    expect(attrs['gen_ai.usage.total_tokens']).toBeGreaterThan(0);
    for (const name of Object.keys(attrs)) expect(name).not.toMatch(/^(gen_ai\.(input|output)\.messages|metadata\.user_api_key)/);
    expect(JSON.stringify(span)).not.toContain('a private question');
    expect(JSON.stringify(span)).not.toContain('quiet-key');
    await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    const errorSpan = await eventually(async () => collector.spans().find((s) => s.status?.code === 2 && attributesOf(s)['gen_ai.request.model'] === 'unreachable' && attributesOf(s)['gen_ai.user'] === undefined && !JSON.stringify(s).includes('user-otel')));
    expect(errorSpan.status?.message).toMatch(/ - redacted-by-litellm$/);
    expect(errorSpan.status?.message).not.toContain('127.0.0.1');
  });
});
