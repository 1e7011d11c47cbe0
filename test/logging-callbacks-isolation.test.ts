import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeIntake, startFakeIntake } from './fakes/log-intake.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// The standard loggers kept apart from each other and from a call's size: an `s3` logger whose region no URL
// takes (read by the admin Worker from its env, which config validation never sees) must not make the
// `generic_api` payloads of the same batch be sent again; a rerank call whose documents are larger than a
// queue message still gets its payload (the documents are prompt content, not model parameters).

let upstream: FakeUpstream;
let intake: FakeIntake;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  intake = await startFakeIntake({ ddApiKey: 'unused-dd-key' });
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: upstream-key-isolation}
  - model_name: cohere-rerank
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${upstream.url}/v2", api_key: co-upstream-isolation}
litellm_settings:
  callbacks: ["s3", "generic_api"]
  s3_callback_params:
    s3_bucket_name: tollgate-logs
`,
    env: {
      GENERIC_LOGGER_ENDPOINT: `${intake.url}/generic/isolation`,
      AWS_ACCESS_KEY_ID: 'AKIAISOLATIONTEST01', AWS_SECRET_ACCESS_KEY: 'isolation-secret-access-key', AWS_REGION_NAME: 'us east',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await intake?.close();
  await upstream?.close();
});

type Payload = Record<string, any>;
const payloadsOf = (id: string): Payload[] => intake.generic.flatMap((r) => r.items as Payload[]).filter((p) => p.id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the standard loggers, one misconfigured', () => {
  it('deliver the generic_api payload exactly once while the s3 logger\'s region makes no URL', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-isolation' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'isolated?' }] }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    await eventually(async () => (payloadsOf(callId).length ? true : undefined));
    // Past the consumer's first retry (2 s) and the next: still one.
    await sleep(5000);
    expect(payloadsOf(callId)).toHaveLength(1);
    expect(intake.malformed).toEqual([]);
  });

  it('deliver the payload of a rerank call whose documents are over 100 KB, without them in model_parameters', async () => {
    upstream.enqueue({ kind: 'json', body: { id: 'rr-1', results: [{ index: 1, relevance_score: 0.9 }], meta: { billed_units: { search_units: 1 } } } });
    const key = await seedKey(stack.db.url, { userId: 'user-isolation-rerank' });
    const documents = Array.from({ length: 30 }, (_, i) => `document ${i}: ${'lorem ipsum '.repeat(400)}`);
    const res = await fetch(`${stack.url}/v1/rerank`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cohere-rerank', query: 'which document?', documents, top_n: 1 }),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(documents).length).toBeGreaterThan(100_000);
    const callId = res.headers.get('x-litellm-call-id') ?? '';
    const [payload] = await eventually(async () => (payloadsOf(callId).length ? payloadsOf(callId) : undefined));
    expect(payload).toMatchObject({ id: callId, call_type: 'arerank', status: 'success', model_group: 'cohere-rerank', model_parameters: { top_n: 1 } });
    expect(JSON.stringify(payload)).not.toContain('lorem ipsum');
  });
});
