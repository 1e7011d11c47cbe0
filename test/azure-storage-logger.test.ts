import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAzureStorage, startFakeAzureStorage } from './fakes/azure-storage.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { callbackModels } from './support/callback-config.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `azure_storage` callback: one StandardLoggingPayload per JSON file, written by the admin Worker's
// callback consumer through the DFS API (create, append, flush) of a fake Azure Data Lake Storage Gen2 account on
// loopback that recomputes each request's Shared Key signature.

const UPSTREAM_KEY = 'sk-upstream-openai-azure-0001';

let upstream: FakeUpstream;
let azure: FakeAzureStorage;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  azure = await startFakeAzureStorage({ account: 'tollgatelogs', fileSystem: 'litellm-logs' });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["azure_storage"]
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY,
      AZURE_STORAGE_ACCOUNT_NAME: 'tollgatelogs', AZURE_STORAGE_FILE_SYSTEM: 'litellm-logs',
      AZURE_STORAGE_ACCOUNT_KEY: azure.accountKey, AZURE_STORAGE_ENDPOINT: azure.url,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await azure?.close();
  await upstream?.close();
});

type Payload = Record<string, any>;
const filesOf = (id: string) => azure.files.filter((f) => (JSON.parse(f.body) as Payload).id === id);
const stepsOf = (path: string) => azure.requests.filter((r) => r.path === path).map((r) => `${r.step} ${r.status}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dateOf = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

async function chat(content: string) {
  const apiKey = await seedKey(stack.db.url, { userId: 'user-azure' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();
  return { key: apiKey, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the azure_storage callback', () => {
  it('loads without a "not supported" warning', () => {
    expect(stack.warnings.filter((w) => /azure_storage/.test(w))).toEqual([]);
  });

  it('writes one file per call as <date>/<call id>.json, created, appended and flushed under a Shared Key signature', async () => {
    const { key, data, callId } = await chat('what goes in a data lake?');
    const [file] = await eventually(async () => (filesOf(callId).length ? filesOf(callId) : undefined));
    const payload = JSON.parse(file!.body) as Payload;
    expect(payload).toMatchObject({
      id: callId, status: 'success', model_group: 'gpt-4o', total_tokens: data.usage?.total_tokens,
      messages: [{ role: 'user', content: 'what goes in a data lake?' }],
    });
    expect(file!.path).toBe(`${dateOf(payload.startTime)}/${callId}.json`);
    expect(stepsOf(file!.path)).toEqual(['create 201', 'append 202', 'flush 200']);
    expect(file!.headers.authorization).toMatch(/^SharedKey tollgatelogs:[A-Za-z0-9+/]+=*$/);
    // The key signs; it is never sent, nor is the client's key or the provider's.
    const raw = JSON.stringify(azure.files);
    for (const secret of [azure.accountKey, key, UPSTREAM_KEY]) expect(raw).not.toContain(secret);
    await sleep(1500);
    expect(filesOf(callId)).toHaveLength(1);
    expect(azure.rejected).toEqual([]);
  });

  it('writes a failed call too', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-azure-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const file = await eventually(async () => azure.files.find((f) => (JSON.parse(f.body) as Payload).metadata?.user_api_key_user_id === 'user-azure-fail'));
    const payload = JSON.parse(file.body) as Payload;
    expect(payload).toMatchObject({ status: 'failure', model_group: 'unreachable', response: null });
    expect(file.path).toBe(`${dateOf(payload.startTime)}/${payload.id}.json`);
  });

  it('retries a file whose flush Azure answered 503 ServerBusy: the empty file is written over, once', async () => {
    azure.failNext('flush', 503, 'ServerBusy');
    const { callId } = await chat('during an Azure outage');
    await eventually(async () => (filesOf(callId).length ? true : undefined), 20_000);
    await sleep(1500);
    expect(filesOf(callId)).toHaveLength(1);
    expect(stepsOf(filesOf(callId)[0]!.path)).toEqual(['create 201', 'append 202', 'flush 503', 'create 409', 'head 200', 'create 201', 'append 202', 'flush 200']);
  });

  it('takes a file whose flush answer was lost as written: the retry finds it whole (409, then its length) and writes nothing again', async () => {
    azure.dropNextAnswer('flush');
    const { callId } = await chat('an answer lost on the way');
    const [file] = await eventually(async () => (filesOf(callId).length ? filesOf(callId) : undefined));
    await eventually(async () => (stepsOf(file!.path).includes('head 200') ? true : undefined), 20_000);
    await sleep(1500);
    expect(stepsOf(file!.path)).toEqual(['create 201', 'append 202', 'flush 200', 'create 409', 'head 200']);
    expect(JSON.parse(azure.contentOf(file!.path)!)).toMatchObject({ id: callId, status: 'success' });
  });

  it('retries a file Azure throttled (429) and one refused with 403 AuthenticationFailed', async () => {
    for (const [status, code] of [[429, 'TooManyRequests'], [403, 'AuthenticationFailed']] as const) {
      azure.failNext('create', status, code);
      const { callId } = await chat(`during an Azure ${status}`);
      await eventually(async () => (filesOf(callId).length ? true : undefined), 20_000);
      await sleep(1500);
      expect(filesOf(callId)).toHaveLength(1);
      expect(stepsOf(filesOf(callId)[0]!.path)).toEqual([`create ${status}`, 'create 201', 'append 202', 'flush 200']);
    }
  });
});

describe('GET /health/services?service=azure_storage', () => {
  const check = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });

  it('writes a test payload, says so when Azure refuses it (never quoting the key), and 422s a logger not in the config', async () => {
    const ok = await check('azure_storage');
    expect(ok.status).toBe(200);
    const answer = await ok.json() as { status: string; message: string };
    expect(answer.status).toBe('success');
    const id = /Test payload (\S+) sent/.exec(answer.message)?.[1] ?? '';
    const [file] = filesOf(id);
    expect(file?.path).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}/${id}\\.json$`));
    expect(JSON.parse(file!.body)).toMatchObject({ end_user: 'litellm:/health/services', messages: [{ role: 'user', content: 'Hey, how\'s it going?' }] });

    azure.failNext('create', 403, 'AuthorizationPermissionMismatch');
    const refused = await check('azure_storage');
    expect(refused.status).toBe(503);
    const body = await refused.json() as { error: { message: string } };
    expect(body.error.message).toMatch(/Azure Data Lake file system did not take the test payload \(credentials refused\): HTTP 403 AuthorizationPermissionMismatch for file/);
    expect(JSON.stringify(body)).not.toContain(azure.accountKey);

    const datadog = await check('datadog');
    expect(datadog.status).toBe(422);
    expect((await datadog.json() as { error: { message: string } }).error.message).toContain('not in proxy config');
  });
});
