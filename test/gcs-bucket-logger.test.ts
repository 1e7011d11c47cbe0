import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGcs, startFakeGcs } from './fakes/gcs-bucket.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `gcs_bucket` callback: one StandardLoggingPayload per object, uploaded by the admin Worker's callback
// consumer through GCS's JSON API (uploadType=media) to a fake GCS on loopback, with an access token the fake's
// token endpoint gives for a JWT it verifies with the test service account's public key.

const UPSTREAM_KEY = 'sk-upstream-openai-gcs-0001';

let upstream: FakeUpstream;
let gcs: FakeGcs;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gcs = await startFakeGcs({ bucket: 'tollgate-gcs-logs' });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["gcs_bucket"]
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY,
      // LiteLLM's "bucket/folder" form: objects go under the folder.
      GCS_BUCKET_NAME: 'tollgate-gcs-logs/litellm/dev', GCS_PATH_SERVICE_ACCOUNT: gcs.account.json, GCS_API_BASE: gcs.url,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await gcs?.close();
  await upstream?.close();
});

type Payload = Record<string, any>;
const objectsOf = (id: string) => gcs.objects.filter((o) => (JSON.parse(o.body) as Payload).id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dateOf = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);
const privateKey = () => (JSON.parse(gcs.account.json) as { private_key: string }).private_key;

async function chat(content: string) {
  const apiKey = await seedKey(stack.db.url, { userId: 'user-gcs' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();
  return { key: apiKey, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the gcs_bucket callback', () => {
  it('loads without a "not supported" warning', () => {
    expect(stack.warnings.filter((w) => /gcs_bucket/.test(w))).toEqual([]);
  });

  it('uploads one object per call as <folder>/<date>/<response id>, with a token from a signed JWT, reused', async () => {
    const first = await chat('what goes in a bucket?');
    const [object] = await eventually(async () => (objectsOf(first.callId).length ? objectsOf(first.callId) : undefined));
    const payload = JSON.parse(object!.body) as Payload;
    expect(payload).toMatchObject({
      id: first.callId, status: 'success', model_group: 'gpt-4o', total_tokens: first.data.usage?.total_tokens,
      messages: [{ role: 'user', content: 'what goes in a bucket?' }],
    });
    expect(object!.bucket).toBe('tollgate-gcs-logs');
    expect(object!.name).toBe(`litellm/dev/${dateOf(payload.startTime)}/${payload.response.id}`);
    expect(object!.headers['content-type']).toBe('application/json');
    expect(object!.headers.authorization).toMatch(/^Bearer ya29\.gcs-test-token-\d+$/);
    expect(gcs.tokenChecks.length).toBeGreaterThan(0);
    expect(gcs.tokenChecks.every((c) => c.ok)).toBe(true);
    // The token is kept until near its expiry: a second call costs no new exchange.
    const exchanges = gcs.tokenChecks.length;
    const second = await chat('and another one?');
    await eventually(async () => (objectsOf(second.callId).length ? true : undefined));
    expect(gcs.tokenChecks.length).toBe(exchanges);
    // The key signs; it is never sent, nor is the client's key or the provider's.
    const raw = JSON.stringify(gcs.objects);
    for (const secret of [privateKey(), first.key, UPSTREAM_KEY]) expect(raw).not.toContain(secret);
    await sleep(1500);
    expect(objectsOf(first.callId)).toHaveLength(1);
    expect(gcs.rejected).toEqual([]);
  });

  it('writes a failed call as <folder>/<date>/failure-<hex>', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-gcs-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const object = await eventually(async () => gcs.objects.find((o) => (JSON.parse(o.body) as Payload).metadata?.user_api_key_user_id === 'user-gcs-fail'));
    const payload = JSON.parse(object.body) as Payload;
    expect(payload).toMatchObject({ status: 'failure', model_group: 'unreachable', response: null });
    expect(object.name).toBe(`litellm/dev/${dateOf(payload.startTime)}/failure-${String(payload.id).replace(/-/g, '')}`);
    expect(object.name).toMatch(/\/failure-[0-9a-f]{32}$/);
  });

  it('uploads again, once, an object GCS answered 503 (and one answered 403: a key without access yet)', async () => {
    for (const status of [503, 403]) {
      const refusedBefore = gcs.refused.length;
      gcs.failNext(status, 1);
      const { callId } = await chat(`during a GCS ${status}`);
      await eventually(async () => (gcs.refused.length > refusedBefore ? true : undefined));
      await eventually(async () => (objectsOf(callId).length ? true : undefined), 20_000);
      await sleep(1500);
      expect(objectsOf(callId)).toHaveLength(1);
      expect(gcs.refused.slice(refusedBefore).map((r) => r.status)).toEqual([status]);
    }
  });

  it('asks for a new token when GCS answers 401 for the kept one (revoked), and uploads the object once', async () => {
    const exchanges = gcs.tokenChecks.length;
    const rejectedBefore = gcs.rejected.length;
    gcs.revokeTokens();
    const { callId } = await chat('after the token was revoked');
    await eventually(async () => (objectsOf(callId).length ? true : undefined), 20_000);
    expect(gcs.rejected.slice(rejectedBefore)).toEqual([expect.stringContaining('token not issued')]);
    expect(gcs.tokenChecks.length).toBe(exchanges + 1);
    expect(gcs.tokenChecks.at(-1)?.ok).toBe(true);
    await sleep(1500);
    expect(objectsOf(callId)).toHaveLength(1);
    gcs.rejected.splice(rejectedBefore);
  });

  it('drops (logs) an object GCS refuses as such (400 invalid), and uploads the next call\'s', async () => {
    const refusedBefore = gcs.refused.length;
    gcs.failNext(400, 1, 'invalid');
    const { callId } = await chat('a refused object');
    await eventually(async () => (gcs.refused.at(-1)?.name.endsWith(callId) ? true : undefined));
    // The first retry would come after 2 s: well past it, there is still no object and no second try.
    await sleep(4000);
    expect(objectsOf(callId)).toEqual([]);
    expect(gcs.refused.slice(refusedBefore).map((r) => r.reason)).toEqual(['invalid']);
    const later = await chat('after the refusal');
    await eventually(async () => (objectsOf(later.callId).length ? true : undefined));
    expect(gcs.rejected).toEqual([]);
  });
});

describe('GET /health/services?service=gcs_bucket', () => {
  const check = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });

  it('uploads a test payload, says so when GCS refuses it (never quoting the key), and 422s a logger not in the config', async () => {
    const ok = await check('gcs_bucket');
    expect(ok.status).toBe(200);
    const answer = await ok.json() as { status: string; message: string };
    expect(answer.status).toBe('success');
    const id = /Test payload (\S+) sent/.exec(answer.message)?.[1] ?? '';
    const [object] = objectsOf(id);
    expect(object?.name).toMatch(new RegExp(`^litellm/dev/\\d{4}-\\d{2}-\\d{2}/${id}$`));
    expect(JSON.parse(object!.body)).toMatchObject({ end_user: 'litellm:/health/services', messages: [{ role: 'user', content: 'Hey, how\'s it going?' }] });

    // GCS's message quoting the token sent: never passed on (only GCS's reason is).
    gcs.failNext(403, 1, undefined, { echo: true });
    const refused = await check('gcs_bucket');
    expect(refused.status).toBe(503);
    const body = await refused.json() as { error: { message: string; type: string } };
    expect(body.error.message).toMatch(/GCS bucket did not take the test payload \(credentials refused\): HTTP 403 forbidden/);
    expect(JSON.stringify(body)).not.toContain(privateKey().slice(40, 80));
    expect(JSON.stringify(body)).not.toMatch(/ya29\./);

    const datadog = await check('datadog');
    expect(datadog.status).toBe(422);
    expect((await datadog.json() as { error: { message: string } }).error.message).toContain('not in proxy config');
  });
});
