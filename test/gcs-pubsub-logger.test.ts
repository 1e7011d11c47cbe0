import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePubSub, startFakePubSub } from './fakes/gcs-pubsub.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { callbackModels } from './support/callback-config.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `gcs_pubsub` callback: each successful call's StandardLoggingPayload as one Pub/Sub message (its JSON
// in base64), published by the admin Worker's callback consumer to a fake Pub/Sub on loopback, with an access token
// the fake's token endpoint gives for a JWT it verifies with the test service account's public key.

const UPSTREAM_KEY = 'sk-upstream-openai-pubsub-0001';

let upstream: FakeUpstream;
let pubsub: FakePubSub;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  pubsub = await startFakePubSub({ project: 'tollgate-logs', topic: 'litellm-calls' });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["gcs_pubsub"]
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY,
      GCS_PUBSUB_PROJECT_ID: 'tollgate-logs', GCS_PUBSUB_TOPIC_ID: 'litellm-calls',
      GCS_PATH_SERVICE_ACCOUNT: pubsub.account.json, GCS_PUBSUB_API_BASE: pubsub.url,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await pubsub?.close();
  await upstream?.close();
});

type Payload = Record<string, any>;
const published = () => pubsub.messages.map((m) => JSON.parse(m.data) as Payload);
const messagesOf = (id: string) => published().filter((p) => p.id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const privateKey = () => (JSON.parse(pubsub.account.json) as { private_key: string }).private_key;

async function chat(content: string, userId = 'user-pubsub') {
  const apiKey = await seedKey(stack.db.url, { userId });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();
  return { key: apiKey, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the gcs_pubsub callback', () => {
  it('loads without a "not supported" warning', () => {
    expect(stack.warnings.filter((w) => /gcs_pubsub/.test(w))).toEqual([]);
  });

  it('publishes each call\'s StandardLoggingPayload as a message, with a bearer token from a signed JWT, reused', async () => {
    const first = await chat('what goes on a topic?');
    const [payload] = await eventually(async () => (messagesOf(first.callId).length ? messagesOf(first.callId) : undefined));
    expect(payload).toMatchObject({
      id: first.callId, status: 'success', call_type: 'acompletion', model_group: 'gpt-4o',
      total_tokens: first.data.usage?.total_tokens, prompt_tokens: first.data.usage?.prompt_tokens,
      messages: [{ role: 'user', content: 'what goes on a topic?' }],
      response: { choices: [{ message: { content: first.data.choices[0]?.message.content } }] },
      metadata: { user_api_key_user_id: 'user-pubsub' },
    });
    expect(typeof payload!.response_cost).toBe('number');
    const message = pubsub.messages.find((m) => JSON.parse(m.data).id === first.callId)!;
    expect(message.headers.authorization).toMatch(/^Bearer ya29\.pubsub-test-token-\d+$/);
    expect(message.headers['content-type']).toBe('application/json');
    expect(pubsub.tokenChecks.length).toBeGreaterThan(0);
    expect(pubsub.tokenChecks.every((c) => c.ok)).toBe(true);
    // A token for Pub/Sub alone, not cloud-platform's: it opens no other Google API.
    expect(pubsub.tokenChecks.map((c) => c.ok && c.claims.scope)).toContain('https://www.googleapis.com/auth/pubsub');
    // The token is kept until near its expiry: a second call costs no new exchange.
    const exchanges = pubsub.tokenChecks.length;
    const second = await chat('and another one?');
    await eventually(async () => (messagesOf(second.callId).length ? true : undefined));
    expect(pubsub.tokenChecks.length).toBe(exchanges);
    // The key signs; it is never sent, nor is the client's key or the provider's.
    const raw = JSON.stringify(pubsub.messages.map((m) => m.data));
    for (const secret of [privateKey(), first.key, UPSTREAM_KEY]) expect(raw).not.toContain(secret);
    await sleep(1500);
    expect(messagesOf(first.callId)).toHaveLength(1);
    expect(pubsub.rejected).toEqual([]);
  });

  it('publishes no failed call (LiteLLM\'s logger has no failure hook)', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-pubsub-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    // A later success is published; the failure, queued before it, never is.
    const later = await chat('after the failure');
    await eventually(async () => (messagesOf(later.callId).length ? true : undefined));
    await sleep(1500);
    expect(published().filter((p) => p.metadata?.user_api_key_user_id === 'user-pubsub-fail' || p.status === 'failure')).toEqual([]);
  });

  it('publishes again, once, a call Pub/Sub answered 503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED, 403 PERMISSION_DENIED or 400 FAILED_PRECONDITION', async () => {
    for (const [status, code] of [[503, undefined], [429, undefined], [403, undefined], [400, 'FAILED_PRECONDITION']] as const) {
      const refusedBefore = pubsub.refused.length;
      pubsub.failNext(status, 1, { code });
      const { callId } = await chat(`during a Pub/Sub ${status}`);
      await eventually(async () => (pubsub.refused.length > refusedBefore ? true : undefined));
      await eventually(async () => (messagesOf(callId).length ? true : undefined), 20_000);
      await sleep(1500);
      expect(messagesOf(callId)).toHaveLength(1);
      expect(pubsub.refused.slice(refusedBefore).map((r) => r.status)).toEqual([status]);
    }
  });

  it('drops (logs) a publish Pub/Sub refuses as such (400 INVALID_ARGUMENT), and publishes the next call', async () => {
    const refusedBefore = pubsub.refused.length;
    pubsub.failNext(400, 1);
    const { callId } = await chat('a refused message');
    await eventually(async () => (pubsub.refused.length > refusedBefore ? true : undefined));
    // The first retry would come after 2 s: well past it, there is still no message and no second try.
    await sleep(4000);
    expect(messagesOf(callId)).toEqual([]);
    expect(pubsub.refused.slice(refusedBefore).map((r) => r.status)).toEqual([400]);
    const later = await chat('after the refusal');
    await eventually(async () => (messagesOf(later.callId).length ? true : undefined));
  });
});

describe('GET /health/services?service=gcs_pubsub', () => {
  const check = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });

  it('publishes a test payload, says so when Pub/Sub refuses it (never quoting the token or the key), and 422s a logger not in the config', async () => {
    const ok = await check('gcs_pubsub');
    expect(ok.status).toBe(200);
    const answer = await ok.json() as { status: string; message: string };
    expect(answer.status).toBe('success');
    const id = /Test payload (\S+) sent/.exec(answer.message)?.[1] ?? '';
    expect(messagesOf(id)).toEqual([expect.objectContaining({ end_user: 'litellm:/health/services', messages: [{ role: 'user', content: 'Hey, how\'s it going?' }] })]);

    // Pub/Sub's message quoting the token sent: never passed on (only its status code is).
    pubsub.failNext(403, 1, { echo: true });
    const refused = await check('gcs_pubsub');
    expect(refused.status).toBe(503);
    const body = await refused.json() as { error: { message: string } };
    expect(body.error.message).toMatch(/Pub\/Sub topic did not take the test payload \(credentials refused\): HTTP 403 PERMISSION_DENIED/);
    expect(JSON.stringify(body)).not.toContain(privateKey().slice(40, 80));
    expect(JSON.stringify(body)).not.toMatch(/ya29\./);

    const datadog = await check('datadog');
    expect(datadog.status).toBe(422);
    expect((await datadog.json() as { error: { message: string } }).error.message).toContain('not in proxy config');
  });
});
