import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeS3, startFakeS3 } from './fakes/s3-bucket.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `s3` callback: one StandardLoggingPayload per object, PUT with SigV4 by the admin Worker's
// callback consumer to an S3-compatible store on loopback (path-style, s3_endpoint_url) that checks the
// signature against the test credentials.

const CREDS = { accessKeyId: 'AKIATOLLGATETEST0001', secretAccessKey: 's3-secret-access-key-test-0001', sessionToken: 's3-session-token-test-0001', region: 'eu-central-1' };
const UPSTREAM_KEY = 'sk-upstream-openai-s3-0001';

let upstream: FakeUpstream;
let s3: FakeS3;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  s3 = await startFakeS3({ bucket: 'tollgate-logs', ...CREDS });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["s3"]
  s3_callback_params:
    s3_bucket_name: tollgate-logs
    s3_region_name: ${CREDS.region}
    s3_endpoint_url: "${s3.url}"
    s3_path: litellm-logs/
    s3_use_team_prefix: true
    s3_use_key_prefix: true
    s3_aws_access_key_id: os.environ/S3_TEST_ACCESS_KEY_ID
    s3_aws_secret_access_key: os.environ/S3_TEST_SECRET_ACCESS_KEY
    s3_aws_session_token: os.environ/S3_TEST_SESSION_TOKEN
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY,
      S3_TEST_ACCESS_KEY_ID: CREDS.accessKeyId, S3_TEST_SECRET_ACCESS_KEY: CREDS.secretAccessKey, S3_TEST_SESSION_TOKEN: CREDS.sessionToken,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await s3?.close();
  await upstream?.close();
});

type Payload = Record<string, any>;
const objectsOf = (id: string) => s3.puts.filter((o) => (JSON.parse(o.body) as Payload).id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

async function chat(content: string, key?: string) {
  const apiKey = key ?? await seedKey(stack.db.url, { userId: 'user-s3' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();
  return { key: apiKey, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the s3 callback', () => {
  it('loads without a warning: no "not supported", no unset os.environ/ credential in the gateway', () => {
    expect(stack.warnings.filter((w) => /\bs3\b|s3_callback_params/.test(w))).toEqual([]);
  });

  it('writes one signed object per call under LiteLLM\'s key: path, team and key aliases, date, time and call id', async () => {
    await seedTeam(stack.db.url, { id: 'team-s3', alias: 'blue team' });
    const key = await seedKey(stack.db.url, { userId: 'user-s3-1', alias: 'ops key=1+2', teamId: 'team-s3' });
    const { data, callId } = await chat('what goes in a bucket?', key);
    const [object] = await eventually(async () => (objectsOf(callId).length ? objectsOf(callId) : undefined));
    const payload = JSON.parse(object!.body) as Payload;
    expect(payload).toMatchObject({
      id: callId, status: 'success', model_group: 'gpt-4o', total_tokens: data.usage?.total_tokens,
      metadata: { user_api_key_hash: sha256(key), user_api_key_alias: 'ops key=1+2', user_api_key_team_alias: 'blue team' },
      messages: [{ role: 'user', content: 'what goes in a bucket?' }],
    });
    const start = new Date(payload.startTime * 1000);
    const micros = pad(Math.round(payload.startTime * 1e6) % 1e6, 6);
    const date = `${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
    const time = `${pad(start.getUTCHours())}-${pad(start.getUTCMinutes())}-${pad(start.getUTCSeconds())}-${micros}`;
    expect(object!.key).toBe(`litellm-logs/blue team/ops key=1+2/${date}/time-${time}_${callId}.json`);
    expect(object!.headers).toMatchObject({
      'content-type': 'application/json', 'content-language': 'en', 'x-amz-security-token': CREDS.sessionToken,
      'content-disposition': `inline; filename="time-${date}T${time}_${callId}.json"`,
      'cache-control': 'private, immutable, max-age=31536000, s-maxage=0',
    });
    // The secret signs; it is never sent, nor is the client's key or the provider's.
    const raw = JSON.stringify(object);
    for (const secret of [CREDS.secretAccessKey, key, UPSTREAM_KEY]) expect(raw).not.toContain(secret);
    await sleep(1500);
    expect(objectsOf(callId)).toHaveLength(1);
    expect(s3.rejected).toEqual([]);
  });

  it('writes a failed call as a failure payload', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-s3-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const object = await eventually(async () => s3.puts.find((o) => (JSON.parse(o.body) as Payload).metadata?.user_api_key_user_id === 'user-s3-fail'));
    const payload = JSON.parse(object.body) as Payload;
    expect(payload).toMatchObject({ status: 'failure', model_group: 'unreachable', response: null, error_information: { llm_provider: 'openai' } });
    // No key alias or team: no prefix folders.
    expect(object.key).toMatch(new RegExp(`^litellm-logs/\\d{4}-\\d{2}-\\d{2}/time-\\d{2}-\\d{2}-\\d{2}-\\d{6}_${payload.id}\\.json$`));
  });

  it('writes again an object S3 answered 503, once', async () => {
    const refusedBefore = s3.refused.length;
    s3.failNext(503, 1);
    const { callId } = await chat('during an S3 outage');
    await eventually(async () => (s3.refused.length > refusedBefore ? true : undefined));
    await eventually(async () => (objectsOf(callId).length ? true : undefined), 20_000);
    await sleep(1500);
    expect(objectsOf(callId)).toHaveLength(1);
    expect(s3.refused.at(-1)?.status).toBe(503);
  });

  // S3's 400s are mostly about credentials, the clock or the request in flight: those objects wait for a retry.
  it('writes again, once, an object S3 answered 400 ExpiredToken (a session token that ran out)', async () => {
    const refusedBefore = s3.refused.length;
    s3.failNext(400, 1, 'ExpiredToken');
    const { callId } = await chat('while the session token is renewed');
    await eventually(async () => (s3.refused.length > refusedBefore ? true : undefined));
    await eventually(async () => (objectsOf(callId).length ? true : undefined), 20_000);
    await sleep(1500);
    expect(objectsOf(callId)).toHaveLength(1);
    expect(s3.refused.slice(refusedBefore)).toEqual([expect.objectContaining({ status: 400, code: 'ExpiredToken' })]);
  });

  it('writes again, once, an object S3 answered 403 SignatureDoesNotMatch', async () => {
    const refusedBefore = s3.refused.length;
    s3.failNext(403, 1, 'SignatureDoesNotMatch');
    const { callId } = await chat('while the secret is rotated');
    await eventually(async () => (s3.refused.length > refusedBefore ? true : undefined));
    await eventually(async () => (objectsOf(callId).length ? true : undefined), 20_000);
    await sleep(1500);
    expect(objectsOf(callId)).toHaveLength(1);
    expect(s3.refused.slice(refusedBefore).map((r) => r.code)).toEqual(['SignatureDoesNotMatch']);
  });

  it('drops (logs) an object S3 refuses as such (400 EntityTooLarge), and writes the next call\'s', async () => {
    const refusedBefore = s3.refused.length;
    s3.failNext(400, 1, 'EntityTooLarge');
    const { callId } = await chat('a refused object');
    await eventually(async () => (s3.refused.at(-1)?.key.includes(callId) ? true : undefined));
    // The first retry would come after 2 s: well past it, there is still no object and no second try.
    await sleep(4000);
    expect(objectsOf(callId)).toEqual([]);
    expect(s3.refused.slice(refusedBefore).map((r) => r.code)).toEqual(['EntityTooLarge']);
    const later = await chat('after the refusal');
    await eventually(async () => (objectsOf(later.callId).length ? true : undefined));
    expect(s3.rejected).toEqual([]);
  });

  it('keeps a hostile key alias inside the key folders: a "." or ".." segment is made "_" / "__"', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-s3-alias', alias: '../../other-team/x' });
    const { callId } = await chat('from a key with a sly alias', key);
    const [object] = await eventually(async () => (objectsOf(callId).length ? objectsOf(callId) : undefined));
    expect(object!.key).toMatch(new RegExp(`^litellm-logs/__/__/other-team/x/\\d{4}-\\d{2}-\\d{2}/time-\\d{2}-\\d{2}-\\d{2}-\\d{6}_${callId}\\.json$`));
    expect(s3.rejected).toEqual([]);
  });
});
