import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudEvent, type FakeOpenMeter, startFakeOpenMeter } from './fakes/openmeter.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { callbackModels } from './support/callback-config.ts';
import { consoleLines, useLoggerStack } from './support/logger-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `openmeter` callback through the real stack: the official OpenAI client calls the gateway, and the
// admin Worker's callback consumer sends each successful call's cost and tokens as a CloudEvent to a fake
// OpenMeter ingest API on loopback (Bearer key checked, events validated as OpenMeter does).

const OPENMETER_API_KEY = 'om-test-api-key-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-openmeter-0001';

let upstream: FakeUpstream;
let openmeter: FakeOpenMeter;
let stack: TestStack;

const SETTINGS = `litellm_settings:
  callbacks: ["openmeter"]
`;

useLoggerStack({
  destination: () => startFakeOpenMeter({ apiKey: OPENMETER_API_KEY }),
  settings: SETTINGS,
  env: (fake) => ({ FAKE_OPENAI_KEY: UPSTREAM_KEY, OPENMETER_API_KEY, OPENMETER_API_ENDPOINT: fake.url }),
}, (s) => ({ upstream, destination: openmeter, stack } = s));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventsOf = (id: string): CloudEvent[] => openmeter.requests.flatMap((r) => r.events.filter((e) => e.id === id));
const meteredEvent = (id: string) => eventually(async () => eventsOf(id)[0]);

async function chat(key: string, user?: string, url = stack.url) {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'meter me' }], ...(user ? { user } : {}) }).withResponse();
  return { data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the openmeter callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /openmeter/i.test(w))).toEqual([]);
  });

  it('meters a call as LiteLLM\'s CloudEvent: the call id, the request\'s user as subject, the model, cost and tokens', async () => {
    const key = await seedKey(stack.db.url, { userId: 'om-key-user' });
    const started = Date.now();
    const { data, callId } = await chat(key, 'customer-42');
    const event = await meteredEvent(callId);
    expect(event).toEqual({
      specversion: '1.0', type: 'litellm_tokens', id: callId, time: expect.any(String), source: 'litellm-proxy', subject: 'customer-42',
      data: { model: 'gpt-4o', cost: expect.any(Number), prompt_tokens: data.usage!.prompt_tokens, completion_tokens: data.usage!.completion_tokens, total_tokens: data.usage!.total_tokens },
    });
    expect(event.data.cost).toBeGreaterThan(0);
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(started - 1000);
    expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
    const request = openmeter.requests.find((r) => r.events.some((e) => e.id === callId))!;
    expect(request.contentType).toBe('application/cloudevents-batch+json');
    expect(request.headers.authorization).toBe(`Bearer ${OPENMETER_API_KEY}`);
    // Counts only: no prompt, answer or credential travels to OpenMeter.
    const sent = JSON.stringify(openmeter.requests.map((r) => r.events));
    for (const text of ['meter me', data.choices[0]!.message.content!, key, UPSTREAM_KEY, OPENMETER_API_KEY]) expect(sent).not.toContain(text);
    expect(openmeter.malformed).toEqual([]);
  });

  it('bills the key\'s user when the request names none; a call with neither is not metered, and the next one is', async () => {
    const { callId } = await chat(await seedKey(stack.db.url, { userId: 'om-key-user-2' }));
    expect((await meteredEvent(callId)).subject).toBe('om-key-user-2');
    let nobody = { callId: '' };
    const lines = await consoleLines(async () => {
      nobody = await chat(await seedKey(stack.db.url));
      const next = await chat(await seedKey(stack.db.url, { userId: 'om-after-nobody' }));
      await meteredEvent(next.callId);
      // Past the first retry (2 s): a payload kept for a retry would be posted, and logged, again.
      await sleep(3000);
    });
    // Dropped once, not retried: its line is logged once.
    expect(lines.filter((l) => l.includes('dropped: no end user') && l.includes(nobody.callId))).toHaveLength(1);
    expect(eventsOf(nobody.callId)).toEqual([]);
    expect(openmeter.malformed).toEqual([]);
  });

  it('does not meter a failed call (LiteLLM\'s OpenMeter logger sends successes only)', async () => {
    const key = await seedKey(stack.db.url, { userId: 'om-fail-user' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    expect(await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.APIError);
    const after = await chat(key);
    await meteredEvent(after.callId);
    await sleep(1500);
    expect(openmeter.requests.flatMap((r) => r.events).filter((e) => e.subject === 'om-fail-user')).toHaveLength(1);
  });

  it('sends again, once, what OpenMeter answered 500; the log line never quotes the key it echoes', async () => {
    const refusedBefore = openmeter.refused.length;
    openmeter.failNext(500, 1, { echo: true });
    let callId = '';
    const lines = await consoleLines(async () => {
      callId = (await chat(await seedKey(stack.db.url, { userId: 'om-outage' }))).callId;
      await eventually(async () => eventsOf(callId)[0], 20_000);
    });
    expect(openmeter.refused.slice(refusedBefore)).toEqual([500]);
    const logged = lines.join('');
    expect(logged).toMatch(/openmeter callback: posting 1 payloads to \S+ failed, retrying: HTTP 500: .*refused by the test: Bearer \[redacted\]/);
    expect(logged).not.toContain(OPENMETER_API_KEY);
    await sleep(1500);
    expect(eventsOf(callId)).toHaveLength(1);
  });

  it('is tested through /health/services, and the answer never quotes the key OpenMeter echoes', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=openmeter`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const ok = await ask();
    expect(ok.status).toBe(200);
    const body = await ok.json() as { status: string; message: string };
    expect(body).toMatchObject({ status: 'success' });
    const id = /Test payload (\S+) sent/.exec(body.message)?.[1] ?? '';
    expect(eventsOf(id)).toEqual([expect.objectContaining({ subject: 'litellm:/health/services', type: 'litellm_tokens' })]);
    openmeter.failNext(500, 1, { echo: true });
    const res = await ask();
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).toContain('OpenMeter did not take the test payload');
    expect(text).not.toContain(OPENMETER_API_KEY);
  });
});

describe('the openmeter callback with OPENMETER_TRUST_REQUEST_USER=false', () => {
  let untrusted: TestStack;
  beforeAll(async () => {
    // Another stack on the same fakes: what OpenMeter got from each is told apart by the call ids.
    untrusted = await startTestStack({
      configYaml: `${callbackModels(upstream.url)}${SETTINGS}`,
      env: { FAKE_OPENAI_KEY: UPSTREAM_KEY, OPENMETER_API_KEY, OPENMETER_API_ENDPOINT: openmeter.url, OPENMETER_TRUST_REQUEST_USER: 'false' },
    });
  });
  afterAll(async () => {
    await untrusted?.stop();
  });

  it('bills the key\'s user whatever user the request names', async () => {
    const { callId } = await chat(await seedKey(untrusted.db.url, { userId: 'om-untrusted-key-user' }), 'customer-chosen-by-client', untrusted.url);
    expect((await meteredEvent(callId)).subject).toBe('om-untrusted-key-user');
  });

  it('answers /health/services with why nothing was sent: the test payload has no key user to bill', async () => {
    const before = openmeter.requests.length;
    const res = await fetch(`${untrusted.url}/health/services?service=openmeter`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).toContain('OpenMeter did not take the test payload');
    expect(text).toContain('no subject to bill');
    expect(text).not.toContain(OPENMETER_API_KEY);
    expect(openmeter.requests.length).toBe(before);
  });
});
