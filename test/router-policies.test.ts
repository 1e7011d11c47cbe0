import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * The router settings LiteLLM users tune beyond the basics router.test.ts
 * covers: content_policy_fallbacks, default_fallbacks, max_fallbacks,
 * retry_policy per error class, and the least-busy and cost-based routing
 * strategies. Every upstream is a fake on loopback speaking OpenAI's wire format.
 */

let upstreams: Record<'strict' | 'lenient' | 'general' | 'chain' | 'spare' | 'limited' | 'slow' | 'quick' | 'cheap' | 'dear', FakeUpstream>;
const names = ['strict', 'lenient', 'general', 'chain', 'spare', 'limited', 'slow', 'quick', 'cheap', 'dear'] as const;

beforeAll(async () => {
  const started = await Promise.all(names.map(() => startFakeUpstream()));
  upstreams = Object.fromEntries(names.map((n, i) => [n, started[i]])) as typeof upstreams;
});
afterAll(async () => {
  for (const u of Object.values(upstreams ?? {})) await u.close();
});
beforeEach(() => {
  for (const u of Object.values(upstreams)) u.reset();
});

const deployment = (group: string, upstream: FakeUpstream, extra = '') => `
  - model_name: ${group}
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-${group}}${extra}`;
const clientOf = (stack: TestStack) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
const ask = (client: OpenAI, model: string) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
const failing = (status: number, code: string | null = null, headers: Record<string, string> = {}) =>
  ({ kind: 'error' as const, status, body: openaiError({ message: `upstream says ${status}`, type: status === 400 ? 'invalid_request_error' : 'server_error', code }), headers });

describe('fallback and retry settings', () => {
  let stack: TestStack;
  let client: OpenAI;
  beforeAll(async () => {
    const u = upstreams;
    stack = await startTestStack({
      configYaml: `
model_list:
${deployment('guarded', u.strict)}
${deployment('lenient', u.lenient)}
${deployment('general', u.general)}
${deployment('orphan', u.strict)}
${deployment('spare', u.spare)}
${deployment('hop-a', u.chain)}
${deployment('hop-b', u.chain)}
${deployment('hop-c', u.chain)}
${deployment('hop-d', u.spare)}
${deployment('limited', u.limited)}
router_settings:
  num_retries: 3
  retry_policy: {RateLimitErrorRetries: 1, InternalServerErrorRetries: 0}
  retry_after: 0
  max_fallbacks: 2
  fallbacks:
    - guarded: [general]
    - hop-a: [hop-b]
    - hop-b: [hop-c]
    - hop-c: [hop-d]
  content_policy_fallbacks:
    - guarded: [lenient]
  default_fallbacks: [spare]
`,
    });
    client = clientOf(stack);
  });
  afterAll(async () => stack?.stop());

  it('send a content-policy refusal to content_policy_fallbacks, not to the general fallbacks', async () => {
    upstreams.strict.setDefault(failing(400, 'content_policy_violation'));
    const { data, response } = await ask(client, 'guarded');
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(response.headers.get('x-litellm-model-group')).toBe('lenient');
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(upstreams.strict.requests).toHaveLength(1);
    expect(upstreams.lenient.requests).toHaveLength(1);
    expect(upstreams.general.requests).toHaveLength(0);
  });

  it('send any other failure of the same group to its general fallbacks', async () => {
    upstreams.strict.setDefault(failing(500));
    const { response } = await ask(client, 'guarded');
    expect(response.headers.get('x-litellm-model-group')).toBe('general');
    expect(upstreams.lenient.requests).toHaveLength(0);
  });

  it('fall back to default_fallbacks for a group with no fallbacks of its own', async () => {
    upstreams.strict.setDefault(failing(503));
    const { data, response } = await ask(client, 'orphan');
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(response.headers.get('x-litellm-model-group')).toBe('spare');
    expect(upstreams.spare.requests).toHaveLength(1);
  });

  it('stop a failing chain after max_fallbacks groups beyond the first', async () => {
    upstreams.chain.setDefault(failing(500));
    const err = await ask(client, 'hop-a').catch((e: unknown) => e) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    // hop-a, then two fallbacks (hop-b, hop-c); hop-d, which would answer, is past max_fallbacks: 2.
    expect(upstreams.chain.requests).toHaveLength(3);
    expect(upstreams.spare.requests).toHaveLength(0);
    expect(err.headers.get('x-litellm-attempted-fallbacks')).toBe('2');
  });

  it('retry each error class as retry_policy says, over num_retries', async () => {
    // RateLimitErrorRetries: 1 → two calls for a 429, though num_retries is 3; then the default fallback.
    upstreams.limited.setDefault(failing(429, null, { 'retry-after': '0' }));
    const limited = await ask(client, 'limited');
    expect(upstreams.limited.requests).toHaveLength(2);
    expect(limited.response.headers.get('x-litellm-attempted-retries')).toBe('1');
    expect(limited.response.headers.get('x-litellm-model-group')).toBe('spare');

    // InternalServerErrorRetries: 0 → one call for a 500.
    upstreams.limited.reset();
    upstreams.limited.setDefault(failing(500));
    const { response } = await ask(client, 'limited');
    expect(upstreams.limited.requests).toHaveLength(1);
    expect(response.headers.get('x-litellm-attempted-retries')).toBe('0');
    expect(response.headers.get('x-litellm-model-group')).toBe('spare');
  });
});

describe('least-busy routing', () => {
  let stack: TestStack;
  afterAll(async () => stack?.stop());

  it('sends requests to the deployment with fewer calls in flight', async () => {
    const { slow, quick } = upstreams;
    slow.setDefault({ kind: 'echo', delayMs: 6000 });
    quick.setDefault({ kind: 'echo', delayMs: 300 });
    stack = await startTestStack({
      configYaml: `
model_list:
${deployment('busy', slow, '\n    model_info: {id: busy-slow}')}
${deployment('busy', quick, '\n    model_info: {id: busy-quick}')}
router_settings:
  routing_strategy: least-busy
`,
    });
    const client = clientOf(stack);
    // Four at once: least-busy spreads them two and two (the quick ones end after 300 ms).
    const burst = Array.from({ length: 4 }, () => ask(client, 'busy'));
    await new Promise((r) => setTimeout(r, 600));
    expect(slow.requests).toHaveLength(2);
    // While the slow deployment still holds two calls, every new one goes to the idle quick one
    // (by chance, as simple-shuffle would split them, all eight would be 1 in 256).
    const picks: string[] = [];
    for (let i = 0; i < 8; i++) picks.push((await ask(client, 'busy')).response.headers.get('x-litellm-model-id') ?? '');
    expect(picks).toEqual(Array(8).fill('busy-quick'));
    expect(slow.requests).toHaveLength(2);
    await Promise.all(burst);
  }, 30_000);
});

describe('cost-based routing', () => {
  let stack: TestStack;
  afterAll(async () => stack?.stop());

  it('sends every request to the cheapest deployment of the group', async () => {
    const { cheap, dear } = upstreams;
    stack = await startTestStack({
      configYaml: `
model_list:
${deployment('priced', dear, '\n    model_info: {id: priced-dear, input_cost_per_token: 0.00001, output_cost_per_token: 0.00003}')}
${deployment('priced', cheap, '\n    model_info: {id: priced-cheap, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}')}
router_settings:
  routing_strategy: cost-based-routing
`,
    });
    const client = clientOf(stack);
    for (let i = 0; i < 10; i++) {
      const { response } = await ask(client, 'priced');
      expect(response.headers.get('x-litellm-model-id')).toBe('priced-cheap');
    }
    expect(cheap.requests).toHaveLength(10);
    expect(dear.requests).toHaveLength(0);
  }, 30_000);
});

describe('allowed_fails and allowed_fails_policy', () => {
  let stack: TestStack;
  afterAll(async () => stack?.stop());

  it('cool a deployment down at the failure past its error class\'s allowance', async () => {
    const { slow: throttled, quick: healthy, cheap: broken, dear: steady } = upstreams;
    throttled.setDefault(failing(429, null, { 'retry-after': '0' }));
    broken.setDefault(failing(500));
    stack = await startTestStack({
      configYaml: `
model_list:
${deployment('throttling', throttled, '\n    model_info: {id: throttling-bad}')}
${deployment('throttling', healthy, '\n    model_info: {id: throttling-good}')}
${deployment('breaking', broken, '\n    model_info: {id: breaking-bad}')}
${deployment('breaking', steady, '\n    model_info: {id: breaking-good}')}
router_settings:
  num_retries: 1
  allowed_fails: 1
  allowed_fails_policy: {RateLimitErrorAllowedFails: 4}
  cooldown_time: 30
`,
    });
    const client = clientOf(stack);
    // Each failure is retried on the group's other deployment, so every call succeeds.
    for (let i = 0; i < 40; i++) {
      expect((await ask(client, 'throttling')).response.headers.get('x-litellm-model-id')).toBe('throttling-good');
      expect((await ask(client, 'breaking')).response.headers.get('x-litellm-model-id')).toBe('breaking-good');
    }
    // 429s are allowed 4 a minute: the fifth cools the deployment down (for the rest of the test).
    expect(throttled.requests).toHaveLength(5);
    // 500s fall under allowed_fails: 1: the second cools it down.
    expect(broken.requests).toHaveLength(2);
  }, 60_000);
});

describe('usage-based routing', () => {
  let stack: TestStack;
  afterAll(async () => stack?.stop());

  it('sends each call to the deployment with the fewest tokens this minute, and none past a deployment\'s tpm', async () => {
    const { cheap: capped, dear: open } = upstreams;
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: metered
    litellm_params: {model: openai/gpt-4o, api_base: "${capped.url}/v1", api_key: sk-capped, tpm: 20}
    model_info: {id: metered-capped}
${deployment('metered', open, '\n    model_info: {id: metered-open}')}
router_settings:
  routing_strategy: usage-based-routing-v2
`,
    });
    const client = clientOf(stack);
    // The counts are per minute: start well inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const picks: string[] = [];
    for (let i = 0; i < 12; i++) picks.push((await ask(client, 'metered')).response.headers.get('x-litellm-model-id') ?? '');
    // Each call is 8 tokens (5 prompt, 3 completion): the fewer-tokens deployment takes the next call, so the
    // two alternate until the capped one has used 24 of its tpm 20 (let in at 16); then only the open one.
    expect(capped.requests).toHaveLength(3);
    expect(open.requests).toHaveLength(9);
    for (let i = 0; i + 1 < 4; i += 2) expect(picks[i]).not.toBe(picks[i + 1]);
  }, 60_000);
});
