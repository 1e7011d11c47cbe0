import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAzureSentinel, startFakeAzureSentinel } from './fakes/azure-sentinel.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { callbackModels } from './support/callback-config.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `azure_sentinel` callback: successes and failures as StandardLoggingPayloads, POSTed in batches by the
// admin Worker's callback consumer to a fake Azure Monitor Logs Ingestion API on loopback (with Entra ID's token
// endpoint), which checks the bearer token, the api-version, the DCR and stream in the path and the 1 MB limit.

const UPSTREAM_KEY = 'sk-upstream-openai-sentinel-0001';
const DCR = 'dcr-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

let upstream: FakeUpstream;
let azure: FakeAzureSentinel;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  azure = await startFakeAzureSentinel({ dcr: DCR, stream: 'Custom-LiteLLM' });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["azure_sentinel"]
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY,
      AZURE_SENTINEL_ENDPOINT: azure.url, AZURE_SENTINEL_DCR_IMMUTABLE_ID: DCR, AZURE_AUTHORITY_HOST: azure.url,
      // The Azure SDK's common names, LiteLLM's fallback when the Sentinel-specific ones are unset.
      AZURE_TENANT_ID: azure.client.tenant, AZURE_CLIENT_ID: azure.client.clientId, AZURE_CLIENT_SECRET: azure.client.clientSecret,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await azure?.close();
  await upstream?.close();
});

type Payload = Record<string, any>;
const recordsOf = (id: string) => azure.records().filter((r) => r.id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function chat(content: string) {
  const apiKey = await seedKey(stack.db.url, { userId: 'user-sentinel' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();
  return { key: apiKey, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the azure_sentinel callback', () => {
  it('loads without a "not supported" warning', () => {
    expect(stack.warnings.filter((w) => /azure_sentinel/.test(w))).toEqual([]);
  });

  it('ingests each call\'s StandardLoggingPayload into the DCR\'s stream, gzip-compressed, with an Entra token', async () => {
    const { key, data, callId } = await chat('what does a SOC watch for?');
    const [record] = await eventually(async () => (recordsOf(callId).length ? recordsOf(callId) : undefined));
    expect(record).toMatchObject({
      id: callId, status: 'success', call_type: 'acompletion', model_group: 'gpt-4o', total_tokens: data.usage?.total_tokens,
      messages: [{ role: 'user', content: 'what does a SOC watch for?' }],
      response: { choices: [{ message: { role: 'assistant', content: data.choices[0]?.message.content } }] },
      metadata: { user_api_key_user_id: 'user-sentinel' },
    });
    const call = azure.calls.find((c) => c.records.some((r) => r.id === callId))!;
    expect(call.headers).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: expect.stringMatching(/^Bearer /) });
    // The app registration's secret goes to the token endpoint only; no client or provider key is logged.
    const raw = JSON.stringify(azure.calls);
    for (const secret of [azure.client.clientSecret, key, UPSTREAM_KEY]) expect(raw).not.toContain(secret);
    expect(azure.tokenRequests.every(Boolean)).toBe(true);
    await sleep(1500);
    expect(recordsOf(callId)).toHaveLength(1);
    expect(azure.refusals).toEqual([]);
  });

  it('ingests a failed call too', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-sentinel-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const record = await eventually(async () => azure.records().find((r: Payload) => r.metadata?.user_api_key_user_id === 'user-sentinel-fail'));
    expect(record).toMatchObject({ status: 'failure', model_group: 'unreachable', response: null, error_str: expect.any(String) });
  });

  it('retries a batch Azure answered 500 or throttled with 429: ingested once', async () => {
    for (const status of [500, 429]) {
      const seen = azure.statuses.length;
      azure.failNext(status);
      const { callId } = await chat(`during an Azure ${status}`);
      await eventually(async () => (recordsOf(callId).length ? true : undefined), 20_000);
      await sleep(1500);
      expect(recordsOf(callId)).toHaveLength(1);
      // Refused first, then taken: this round's own answers, not an earlier round's.
      const answered = azure.statuses.slice(seen);
      expect(answered.indexOf(status)).toBeGreaterThanOrEqual(0);
      expect(answered.lastIndexOf(204)).toBeGreaterThan(answered.indexOf(status));
    }
  });
});

describe('GET /health/services?service=azure_sentinel', () => {
  const check = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });

  it('ingests a test payload, says so when Azure refuses it (never quoting the secret), and 422s a logger not in the config', async () => {
    const ok = await check('azure_sentinel');
    expect(ok.status).toBe(200);
    const answer = await ok.json() as { status: string; message: string };
    expect(answer.status).toBe('success');
    const id = /Test payload (\S+) sent/.exec(answer.message)?.[1] ?? '';
    expect(recordsOf(id)).toEqual([expect.objectContaining({ end_user: 'litellm:/health/services', messages: [{ role: 'user', content: 'Hey, how\'s it going?' }] })]);

    azure.failNext(403);
    const refused = await check('azure_sentinel');
    expect(refused.status).toBe(503);
    const body = await refused.json() as { error: { message: string } };
    // Azure's code, never its message (which may quote a record).
    expect(body.error.message).toBe('Azure Sentinel did not take the test payload (credentials refused): HTTP 403 OperationFailed');
    expect(JSON.stringify(body)).not.toContain(azure.client.clientSecret);

    const datadog = await check('datadog');
    expect(datadog.status).toBe(422);
    expect((await datadog.json() as { error: { message: string } }).error.message).toContain('not in proxy config');
  });
});
