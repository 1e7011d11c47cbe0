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
    // No router_settings: the defaults are what is tested. The pair's failing deployment fails at most twice a
    // test, under the four failures a minute that would cool it; `single` has no fallbacks, so it is never cooled.
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

describe('retries and cooldowns', () => {
  let left: FakeUpstream;
  let right: FakeUpstream;
  let stuck: FakeUpstream;
  let cooling: TestStack;
  beforeAll(async () => {
    [left, right, stuck] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream({ default: { kind: 'hang' } })]) as [FakeUpstream, FakeUpstream, FakeUpstream];
    cooling = await startTestStack({
      configYaml: `model_list:
  - model_name: fragile
    litellm_params: {model: openai/gpt-4o, api_base: "${left.url}/v1", api_key: sk-left}
  - model_name: fragile
    litellm_params: {model: openai/gpt-4o, api_base: "${right.url}/v1", api_key: sk-right}
  - model_name: stuck
    litellm_params: {model: openai/gpt-4o, api_base: "${stuck.url}/v1", api_key: sk-stuck}
router_settings:
  allowed_fails: 0
litellm_settings:
  request_timeout: 2
`,
    });
  });
  afterAll(async () => {
    await cooling?.stop();
    await Promise.all([left, right, stuck].map((u) => u?.close()));
  });

  it('do not go back to a deployment the request itself has cooled down: with none left, the error comes at once', async () => {
    for (const u of [left, right]) u.setDefault(failing(429, { 'retry-after': '5' }));
    const started = Date.now();
    const res = await fetch(`${cooling.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fragile', messages: [{ role: 'user', content: 'hello there' }] }),
    });
    expect(res.status).toBe(429);
    // Each deployment once (the first failure cools each, allowed_fails: 0), no wait for the 5 s retry-after.
    expect(left.requests.length + right.requests.length).toBe(2);
    expect(left.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.headers.get('x-litellm-attempted-retries')).toBe('1');
  });

  it('count no retry that never happened when the request\'s time runs out in its first attempt', async () => {
    const res = await fetch(`${cooling.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stuck', messages: [{ role: 'user', content: 'hello there' }] }),
    });
    expect(res.status).toBe(408);
    expect(stuck.requests).toHaveLength(1);
    expect(res.headers.get('x-litellm-attempted-retries')).toBe('0');
  });
});
