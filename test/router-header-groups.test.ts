import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiError } from './fakes/openai-format.ts';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's client header forwarding by model group through workerd (router/header-groups.ts):
 * `litellm_settings.model_group_settings.forward_client_headers_to_llm_api` names the groups (exactly or
 * by `*` pattern) whose provider calls carry the client's `x-` headers and `anthropic-beta`, as LiteLLM's do; a
 * group whose `model_group_affinity_config` lists `forward_client_headers_by_model_group` is not named by it. Every other group's
 * calls carry none, and no call ever carries a credential. Each group's deployment names its own upstream
 * model, so the fake's recorded requests say which group a request was for.
 */

let fake: FakeUpstream;
let stack: TestStack;
let key: string;

const group = (name: string, model: string, extra = '') => `
  - model_name: "${name}"
    litellm_params: {model: "openai/${model}", api_base: "${fake.url}/v1", api_key: sk-upstream-0001${extra}}`;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
${group('named', 'named-model')}
${group('plain', 'plain-model')}
${group('flaky-named', 'flaky-model')}
${group('by-check', 'check-model')}
${group('wild/*', '*')}
litellm_settings:
  model_group_settings:
    forward_client_headers_to_llm_api: [named, flaky-named, "wild/*"]
router_settings:
  num_retries: 0
  fallbacks: [{flaky-named: [plain]}]
  model_group_affinity_config: {by-check: [forward_client_headers_by_model_group]}
`,
  });
  key = await seedKey(stack.db.url, { userId: 'user-header-groups' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

beforeEach(() => fake.reset());

const CLIENT_HEADERS = {
  'x-trace-id': 'trace-42',
  'x-request-source': 'mobile-app',
  'anthropic-beta': 'prompt-caching-2024-07-31',
  'x-goog-api-key': 'goog-client-secret',
  cookie: 'session=client-secret',
};

/** A chat call through the official client with the headers above; what the provider received. */
async function sent(model: string, apiKey = key): Promise<RecordedRequest> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const before = fake.requests.length;
  await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }, { headers: CLIENT_HEADERS });
  expect(fake.requests.length).toBe(before + 1);
  return fake.requests.at(-1)!;
}

function expectNoCredentials(request: RecordedRequest, gatewayKey: string): void {
  const text = JSON.stringify(request.headers);
  expect(text).not.toContain('secret');
  expect(text).not.toContain(gatewayKey);
  // The provider's own credential is the deployment's, never the client's.
  expect(request.headers.authorization).toBe('Bearer sk-upstream-0001');
  for (const name of Object.keys(request.headers)) expect(name).not.toMatch(/^(x-stainless|x-goog-api-key|cookie$)/);
}

describe('litellm_settings.model_group_settings.forward_client_headers_to_llm_api', () => {
  it('a named group\'s provider gets the client\'s x- headers and anthropic-beta, never a credential or the SDK\'s x-stainless-*', async () => {
    const request = await sent('named');
    expect(request.body).toMatchObject({ model: 'named-model' });
    expect(request.headers).toMatchObject({ 'x-trace-id': 'trace-42', 'x-request-source': 'mobile-app', 'anthropic-beta': 'prompt-caching-2024-07-31' });
    expectNoCredentials(request, key);
    // The master key is no more forwarded than a virtual key.
    expectNoCredentials(await sent('named', TEST_MASTER_KEY), TEST_MASTER_KEY);
  });

  it('a group not named gets none of the client\'s headers', async () => {
    const request = await sent('plain');
    expect(request.body).toMatchObject({ model: 'plain-model' });
    expect(request.headers['x-trace-id']).toBeUndefined();
    expect(request.headers['x-request-source']).toBeUndefined();
    expect(request.headers['anthropic-beta']).toBeUndefined();
    expectNoCredentials(request, key);
  });

  it('a pattern names every group it matches: "wild/*" covers the wildcard deployment\'s models', async () => {
    const request = await sent('wild/gpt-4o-mini');
    expect(request.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(request.headers).toMatchObject({ 'x-trace-id': 'trace-42' });
    expectNoCredentials(request, key);
  });

  it('model_group_affinity_config listing forward_client_headers_by_model_group names no group (as in LiteLLM)', async () => {
    const request = await sent('by-check');
    expect(request.body).toMatchObject({ model: 'check-model' });
    expect(request.headers['x-trace-id']).toBeUndefined();
    expect(request.headers['anthropic-beta']).toBeUndefined();
    expectNoCredentials(request, key);
  });

  it('decided per group called: a named group that fails falls back to one not named, which gets no client headers', async () => {
    fake.enqueue({ kind: 'error', status: 500, body: openaiError({ message: 'upstream broke', type: 'server_error' }) });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'flaky-named', messages: [{ role: 'user', content: 'hi' }] }, { headers: CLIENT_HEADERS }).withResponse();
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(fake.requests.map((r) => (r.body as { model: string }).model)).toEqual(['flaky-model', 'plain-model']);
    const [failed, fallback] = fake.requests as [RecordedRequest, RecordedRequest];
    expect(failed.headers['x-trace-id']).toBe('trace-42');
    expect(fallback.headers['x-trace-id']).toBeUndefined();
    expectNoCredentials(failed, key);
    expectNoCredentials(fallback, key);
  });
});
