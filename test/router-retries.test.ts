import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * Retries with no `num_retries` configured, as LiteLLM's router does them:
 * two (its default, the OpenAI SDK's DEFAULT_MAX_RETRIES), at once on a
 * deployment not tried yet, else after a backoff that waits out an upstream
 * `retry-after` of up to a minute and no longer. Configured retries,
 * retry_policy and per-request overrides are in router.test.ts and
 * router-policies.test.ts.
 */

let single: FakeUpstream;
let shaky: FakeUpstream;
let steady: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  [single, shaky, steady] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]) as [FakeUpstream, FakeUpstream, FakeUpstream];
  const deployment = (group: string, upstream: FakeUpstream) => `
  - model_name: ${group}
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-${group}}`;
  stack = await startTestStack({
    // No router_settings: the defaults are what is tested. No fallbacks, so the pair's failing deployment is never cooled down early.
    configYaml: `model_list:${deployment('single', single)}${deployment('pair', shaky)}${deployment('pair', steady)}\n`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([single, shaky, steady].map((u) => u?.close()));
});
beforeEach(() => {
  for (const u of [single, shaky, steady]) u.reset();
});

const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
const failing = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'error' as const, status, body: openaiError({ message: `upstream says ${status}`, type: 'server_error' }), headers });

describe('retries by default', () => {
  it('retry a failed call twice, as LiteLLM\'s router does', async () => {
    single.enqueue(failing(500), failing(503));
    const { data, response } = await ask('single');
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-litellm-attempted-retries')).toBe('2');
    expect(single.requests).toHaveLength(3);
  });

  it('give up after the second retry with the upstream\'s error', async () => {
    single.enqueue(failing(500), failing(500), failing(502), failing(500));
    const err = await ask('single').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(single.requests).toHaveLength(3);
  });

  it('wait out a short retry-after before trying the same deployment again', async () => {
    single.enqueue(failing(429, { 'retry-after': '1' }));
    const started = Date.now();
    const { response } = await ask('single');
    expect(response.headers.get('x-litellm-attempted-retries')).toBe('1');
    const [first, second] = single.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('not wait out a retry-after over a minute (a quota spent for the day): back off briefly and try again', async () => {
    single.enqueue(failing(429, { 'retry-after': '3600' }));
    const started = Date.now();
    const { response } = await ask('single');
    expect(response.headers.get('x-litellm-attempted-retries')).toBe('1');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('try a deployment not tried yet at once, whatever the failed one\'s retry-after', async () => {
    shaky.setDefault(failing(429, { 'retry-after': '30' }));
    // simple-shuffle picks at random: call until the shaky deployment has been picked first twice.
    let calls = 0;
    while (shaky.requests.length < 2 && calls < 40) {
      const started = Date.now();
      const { data } = await ask('pair');
      calls++;
      expect(data.choices[0]?.message.content).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    expect(shaky.requests.length).toBeGreaterThanOrEqual(2);
    // Every call was answered by the steady deployment, first or straight after the shaky one's 429.
    expect(steady.requests).toHaveLength(calls);
  });
});
