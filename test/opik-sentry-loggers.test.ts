import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeOpik, type FakeSentry, startFakeOpik, startFakeSentry } from './fakes/opik-sentry.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `opik` and `sentry` callbacks through the real stack: the admin Worker's callback consumer sends each
// successful call to a fake Opik API (traces and spans batches) and each failed one to a fake Sentry envelope
// intake (the DSN's public key in X-Sentry-Auth), both on loopback.

const OPIK_API_KEY = 'opik-test-api-key-0123456789abcdef';
const WORKSPACE = 'tollgate-ws';
const SENTRY_KEY = 'abcdef0123456789sentrypublickey0';
const UPSTREAM_KEY = 'sk-upstream-openai-opik-0001';

let upstream: FakeUpstream;
let opik: FakeOpik;
let sentry: FakeSentry;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  opik = await startFakeOpik({ apiKey: OPIK_API_KEY, workspace: WORKSPACE });
  sentry = await startFakeSentry({ publicKey: SENTRY_KEY, projectId: '4242' });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  success_callback: ["opik", "sentry"]
  failure_callback: ["sentry", "opik"]
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY, OPIK_API_KEY, OPIK_WORKSPACE: WORKSPACE, OPIK_URL_OVERRIDE: `${opik.url}/opik/api`, OPIK_PROJECT_NAME: 'tollgate-e2e',
      SENTRY_DSN: sentry.dsn, SENTRY_ENVIRONMENT: 'staging',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await sentry?.close();
  await opik?.close();
  await upstream?.close();
});

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A call's span, by its prompt (each test's is its own). */
const spanOf = (prompt: string) => opik.spans.filter((s) => s.input?.[0]?.content === prompt);
const tracesOf = (span: Json) => opik.traces.filter((t) => t.id === span.trace_id);
/** Every trace posted for a prompt (the fake keeps each post, so a retried trace shows up again). */
const tracesFor = (prompt: string) => opik.traces.filter((t) => t.input?.[0]?.content === prompt);
const sentryOf = (callId: string) => sentry.envelopes.filter((e) => e.event.extra?.litellm_call_id === callId);

async function chat(content: string, options: { model?: string; key?: string; metadata?: Json } = {}) {
  const apiKey = options.key ?? await seedKey(stack.db.url, { userId: 'user-opik' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions.create({ model: options.model ?? 'gpt-4o', messages: [{ role: 'user', content }], ...(options.metadata ? { metadata: options.metadata } : {}) } as never).withResponse();
    return { callId: response.headers.get('x-litellm-call-id') ?? '', failed: false };
  } catch (err) {
    return { callId: (err as { headers?: Headers }).headers?.get?.('x-litellm-call-id') ?? '', failed: true };
  }
}

async function spanFor(prompt: string): Promise<Json> {
  return (await eventually(async () => (spanOf(prompt).length ? spanOf(prompt) : undefined), 20_000))[0]!;
}

describe('the opik and sentry callbacks', () => {
  it('load without a warning', () => {
    expect(stack.warnings.filter((w) => /opik|sentry/i.test(w))).toEqual([]);
  });

  it('log a successful call to Opik as a trace and an llm span, with the key and workspace; Sentry gets nothing', async () => {
    const { callId, failed } = await chat('what is opik?', { metadata: { opik: { tags: ['e2e'], thread_id: 'thread-1' } } as never });
    expect(failed).toBe(false);
    const span = await spanFor('what is opik?');
    const [trace] = tracesOf(span);
    expect(trace).toMatchObject({ project_name: 'tollgate-e2e', name: 'chat.completion', input: [{ role: 'user', content: 'what is opik?' }], thread_id: 'thread-1', tags: ['e2e', 'openai'] });
    expect(trace!.output.choices[0].message.role).toBe('assistant');
    expect(span).toMatchObject({ type: 'llm', project_name: 'tollgate-e2e', trace_id: trace!.id, usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) } });
    expect(span.metadata).toMatchObject({ created_from: 'litellm', status: 'success', cost: { currency: 'USD' } });
    // UUIDv7 ids, as Opik requires.
    for (const id of [trace!.id, span.id]) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const sent = opik.requests.find((r) => r.path === '/opik/api/v1/private/traces/batch')!;
    expect(sent.headers).toMatchObject({ authorization: OPIK_API_KEY, 'comet-workspace': WORKSPACE });
    await sleep(1500);
    expect(sentryOf(callId)).toEqual([]);
  });

  it('send a failed call to Sentry as an error event (never the prompt nor a key), and not to Opik', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-sentry', alias: 'sentry key' });
    const { callId, failed } = await chat('secret prompt text', { model: 'unreachable', key });
    expect(failed).toBe(true);
    const [envelope] = await eventually(async () => (sentryOf(callId).length ? sentryOf(callId) : undefined), 20_000);
    expect(envelope!.headers['x-sentry-auth']).toMatch(/^Sentry sentry_version=7, sentry_key=abcdef0123456789sentrypublickey0, sentry_client=tollgate\//);
    expect(envelope!.item).toMatchObject({ type: 'event' });
    expect(envelope!.header.event_id).toBe(envelope!.event.event_id);
    expect(envelope!.event).toMatchObject({
      level: 'error', environment: 'staging', logger: 'litellm',
      exception: { values: [{ type: expect.stringMatching(/Error/), value: expect.any(String) }] },
      tags: { model_group: 'unreachable', user_api_key_alias: 'sentry key' },
    });
    const text = JSON.stringify(envelope);
    expect(text).not.toContain('secret prompt text');
    expect(text).not.toContain(key);
    // No SENTRY_SEND_DEFAULT_PII here: who called (key hash, user id, end user) stays out of the event.
    expect(envelope!.event.extra).not.toHaveProperty('user_api_key_hash');
    expect(text).not.toContain('user-sentry');
    await sleep(1500);
    expect(spanOf('secret prompt text')).toEqual([]);
  });

  it('send again what answered 503; the log line never quotes the key Opik echoes', async () => {
    opik.failNext(503, 1, { echo: true });
    sentry.failNext(503, 1, { echo: true });
    const lines: string[] = [];
    const spies = (['error', 'warn', 'log', 'info'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.join(' '))));
    const ok = 'during an outage';
    let bad: string;
    try {
      await chat(ok);
      bad = (await chat('failing during an outage', { model: 'unreachable' })).callId;
      await eventually(async () => (spanOf(ok).length && sentryOf(bad).length ? true : undefined), 30_000);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const logged = lines.join('\n');
    expect(logged).toMatch(/opik callback: posting 1 payloads to \S+ failed, retrying: HTTP 503/);
    expect(logged).toMatch(/sentry callback: posting 1 payloads to \S+ failed, retrying: HTTP 503/);
    expect(logged).not.toContain(OPIK_API_KEY);
    expect(logged).not.toContain(SENTRY_KEY);
    await sleep(1500);
    expect(spanOf(ok)).toHaveLength(1);
    expect(sentryOf(bad)).toHaveLength(1);
  });

  it('send traces and spans again when only the spans got a 503, with the same trace id (Opik keeps one trace)', async () => {
    opik.failNext(503, 1, { only: 'spans' });
    const prompt = 'spans refused for a while';
    await chat(prompt);
    const span = await spanFor(prompt);
    await sleep(1000);
    const traces = tracesFor(prompt);
    expect(traces.length).toBe(2);
    expect(new Set(traces.map((t) => t.id))).toEqual(new Set([span.trace_id]));
    expect(spanOf(prompt)).toHaveLength(1);
  });

  it('make the call its own trace when its current_span_data ids are not UUIDv7 (Opik would refuse the batch)', async () => {
    const refusedBefore = opik.refused.length;
    const prompt = 'bad opik ids';
    await chat(prompt, { metadata: { opik: { current_span_data: { trace_id: 'x', id: 'y' } } } as never });
    const span = await spanFor(prompt);
    expect(opik.refused.slice(refusedBefore)).toEqual([]);
    expect(span).not.toHaveProperty('parent_span_id');
    expect(tracesFor(prompt).map((t) => t.id)).toEqual([span.trace_id]);
  });

  it('drop only the payload refused with 400, and deliver the next call', async () => {
    opik.refuseHolding('REFUSE-ME-OPIK');
    const refusedBefore = opik.refused.length;
    const refused = 'REFUSE-ME-OPIK please';
    await chat(refused);
    await eventually(async () => (opik.refused.length > refusedBefore ? true : undefined), 20_000);
    await sleep(4000);
    expect(opik.refused.slice(refusedBefore)).toEqual([400]);
    expect(spanOf(refused)).toEqual([]);
    opik.refuseHolding(undefined);
    await chat('after the refusal');
    await spanFor('after the refusal');
  });

  it('drop, not retry, a payload whose spans are refused with 400 after its trace was taken (the trace stays, spanless)', async () => {
    opik.refuseHolding('HALF-REFUSED', { only: 'spans' });
    const refusedBefore = opik.refused.length;
    const prompt = 'HALF-REFUSED call';
    try {
      await chat(prompt);
      await eventually(async () => (opik.refused.length > refusedBefore ? true : undefined), 20_000);
      await sleep(4000);
    } finally {
      opik.refuseHolding(undefined);
    }
    expect(opik.refused.slice(refusedBefore)).toEqual([400]);
    expect(tracesFor(prompt)).toHaveLength(1);
    expect(spanOf(prompt)).toEqual([]);
  });

  it('test both through /health/services', async () => {
    const ask = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    for (const service of ['opik', 'sentry']) {
      const res = await ask(service);
      expect(res.status, service).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'success' });
    }
    opik.failNext(500, 1, { echo: true });
    const res = await ask('opik');
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).toContain('Opik did not take the test payload');
    expect(text).not.toContain(OPIK_API_KEY);
  });
});
