import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { type FakePosthog, startFakePosthog } from './fakes/posthog.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { consoleLines, useLoggerStack } from './support/logger-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `posthog` callback through the real stack: the admin Worker's callback consumer sends each call,
// success or failure, as a PostHog LLM-analytics event to a fake PostHog capture API (`/batch/`) on loopback.

const POSTHOG_API_KEY = 'phc_e2eTestProjectKey0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-posthog-0001';

let upstream: FakeUpstream;
let posthog: FakePosthog;
let stack: TestStack;

useLoggerStack({
  destination: () => startFakePosthog({ apiKey: POSTHOG_API_KEY }),
  settings: `litellm_settings:
  success_callback: ["posthog"]
  failure_callback: ["posthog"]
`,
  env: (fake) => ({ FAKE_OPENAI_KEY: UPSTREAM_KEY, POSTHOG_API_KEY, POSTHOG_API_URL: fake.url }),
}, (s) => ({ upstream, destination: posthog, stack } = s));

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The events PostHog took for a call (its span id is the call id). */
const eventsOf = (callId: string) => posthog.events().filter((e) => e.properties?.$ai_span_id === callId);
const eventOf = async (callId: string) => (await eventually(async () => (eventsOf(callId).length ? eventsOf(callId) : undefined)))[0]!;

async function chat(content: string, extra: Json = {}, options: { key?: string; headers?: Record<string, string> } = {}) {
  const apiKey = options.key ?? await seedKey(stack.db.url, { userId: 'user-ph' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: options.headers });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra } as never).withResponse();
  return { key: apiKey, data: data as OpenAI.Chat.Completions.ChatCompletion, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the posthog callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /posthog/i.test(w))).toEqual([]);
  });

  it('sends a call as LiteLLM\'s $ai_generation, counted for the metadata user_id, with the project key in the body', async () => {
    const { key, data, callId } = await chat('what is product analytics?', { metadata: { user_id: 'user-123', project_name: 'my-project' } });
    const event = await eventOf(callId);
    expect(event).toMatchObject({
      event: '$ai_generation',
      distinct_id: 'user-123',
      uuid: callId,
      properties: {
        $ai_model: 'gpt-4o', $ai_provider: 'openai',
        $ai_input: [{ role: 'user', content: 'what is product analytics?' }],
        $ai_output_choices: { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: data.choices[0]!.message.content } }] },
        $ai_input_tokens: data.usage!.prompt_tokens, $ai_output_tokens: data.usage!.completion_tokens,
        $ai_trace_id: callId, $ai_span_id: callId,
        project_name: 'my-project',
      },
    });
    expect(event.properties.$ai_total_cost_usd).toBeGreaterThan(0);
    expect(event.properties.$ai_latency).toBeGreaterThanOrEqual(0);
    expect(event.properties).not.toHaveProperty('$ai_is_error');
    expect(Math.abs(Date.parse(event.timestamp) - Date.now())).toBeLessThan(60_000);
    const batch = posthog.batches.find((b) => b.events.includes(event))!;
    expect(batch.apiKey).toBe(POSTHOG_API_KEY);
    expect(batch.headers['content-type']).toBe('application/json');
    expect(batch.headers).not.toHaveProperty('authorization');
    // The gateway's attribution and no credential travel: not the virtual key, not the provider's.
    const everything = JSON.stringify(posthog.batches.map((b) => b.events));
    for (const secret of [key, UPSTREAM_KEY, POSTHOG_API_KEY]) expect(everything).not.toContain(secret);
    expect(event.properties).not.toHaveProperty('user_api_key_hash');
  });

  it('sends a call\'s litellm_trace_id as $ai_trace_id, not to the model; drops the client\'s $ keys but $ai_session_id', async () => {
    const traceId = 'trace-posthog-e2e-0001';
    const metadata = { $ai_session_id: 'session-e2e', $set: { email: 'attacker@example.test' }, $ai_is_error: true, $ai_output_tokens: 1e9 };
    const { data, callId } = await chat('part of a trace', { litellm_trace_id: traceId, metadata });
    const event = await eventOf(callId);
    expect(event.distinct_id).toBe(traceId);
    expect(event.properties).toMatchObject({ $ai_trace_id: traceId, $ai_span_id: callId, $ai_session_id: 'session-e2e', $ai_output_tokens: data.usage!.completion_tokens });
    for (const key of ['$set', '$ai_is_error']) expect(event.properties).not.toHaveProperty(key);
    const sent = upstream.requests.find((r) => JSON.stringify(r.body).includes('part of a trace'))!;
    expect(sent.body).not.toHaveProperty('litellm_trace_id');
  });

  it('counts a call without a metadata user_id for its end user (`user`)', async () => {
    const { callId } = await chat('whose call is this?', { user: 'customer-77' });
    const event = await eventOf(callId);
    expect(event.distinct_id).toBe('customer-77');
  });

  it('sends LiteLLM\'s redacted input and output for a call that asks for redaction', async () => {
    const { data, callId } = await chat('a private question', { metadata: { user_id: 'user-private' } }, { headers: { 'litellm-enable-message-redaction': 'true' } });
    const event = await eventOf(callId);
    expect(event.distinct_id).toBe('user-private');
    expect(event.properties.$ai_input).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
    expect(JSON.stringify(event)).not.toContain('a private question');
    expect(JSON.stringify(event)).not.toContain(data.choices[0]!.message.content!);
  });

  it('sends a failed call as an error event: $ai_is_error, $ai_error, $ai_http_status', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-ph-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }], metadata: { user_id: 'user-failing' } } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const event = await eventually(async () => posthog.events().find((e) => e.distinct_id === 'user-failing'));
    expect(event).toMatchObject({ event: '$ai_generation', properties: { $ai_is_error: true, $ai_http_status: (err as InstanceType<typeof OpenAI.APIError>).status, $ai_model: 'gpt-4o' } });
    expect(event.properties.$ai_error).toEqual(expect.any(String));
    expect(event.properties).not.toHaveProperty('$ai_output_choices');
  });

  it('sends again, once, what PostHog answered 500; the log line never quotes the key PostHog echoes', async () => {
    posthog.failNext(500, 1, { echo: true });
    let callId = '';
    const lines = await consoleLines(async () => {
      callId = (await chat('during an outage')).callId;
      await eventOf(callId);
    });
    const logged = lines.join('');
    expect(logged).toMatch(/posthog callback: posting 1 payloads to \S+ failed, retrying: HTTP 500: .*api_key \[redacted\]/);
    expect(logged).not.toContain(POSTHOG_API_KEY);
    expect(posthog.refused.at(-1)).toBe(500);
    await sleep(1500);
    expect(eventsOf(callId)).toHaveLength(1);
    expect(posthog.malformed).toEqual([]);
  });

  it('is tested through /health/services, never quoting the key PostHog echoes', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=posthog`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const ok = await ask();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'success' });
    expect(posthog.events().some((e) => e.distinct_id === 'litellm:/health/services')).toBe(true);
    posthog.failNext(500, 1, { echo: true });
    const res = await ask();
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).toContain('PostHog did not take the test payload');
    expect(text).not.toContain(POSTHOG_API_KEY);
  });
});
