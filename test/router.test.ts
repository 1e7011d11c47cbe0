import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiChatChunks, openaiError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let primary: FakeUpstream;
let secondary: FakeUpstream;
let tertiary: FakeUpstream;
let fast: FakeUpstream;
let slow: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  const fakes = await Promise.all(Array.from({ length: 5 }, () => startFakeUpstream()));
  [primary, secondary, tertiary, fast, slow] = fakes as [FakeUpstream, FakeUpstream, FakeUpstream, FakeUpstream, FakeUpstream];
  slow.setDefault({ kind: 'echo', delayMs: 120 });
  const oa = (name: string, upstream: FakeUpstream, extra = '') => `
  - model_name: ${name}
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-${name}${extra}}`;
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o-uae-primary
    litellm_params: {model: azure/gpt-4o, api_base: "${primary.url}", api_key: azure-key, api_version: "2024-08-01-preview"}
    model_info: {id: uae-primary}
${oa('claude-sonnet-bedrock-me', secondary)}
${oa('claude-sonnet-fallback', tertiary)}
${oa('flaky', primary)}
    model_info: {id: flaky-primary}
${oa('flaky', secondary)}
    model_info: {id: flaky-secondary}
${oa('hangs', primary, ', timeout: 1')}
${oa('slow-start', primary, ', stream_timeout: 1')}
${oa('stall-start', primary, ', stream_timeout: 1')}
${oa('rescue', tertiary)}
${oa('overridable', primary, ', timeout: 1')}
    model_info: {id: overridable-primary}
  - model_name: weighted
    litellm_params: {model: mock/a, mock_response: "A", weight: 1}
    model_info: {id: weighted-a}
  - model_name: weighted
    litellm_params: {model: mock/b, mock_response: "B", weight: 3}
    model_info: {id: weighted-b}
${oa('small-context', primary)}
    model_info: {max_input_tokens: 8}
${oa('big-context', secondary)}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${tertiary.url}/v1", api_key: sk-wild}
router_settings:
  num_retries: 2
  retry_policy: {BadRequestErrorRetries: 0}
  allowed_fails: 3
  cooldown_time: 8
  fallbacks:
    - gpt-4o-uae-primary: [claude-sonnet-bedrock-me]
    - claude-sonnet-bedrock-me: [claude-sonnet-fallback]
    - hangs: [rescue]
    - overridable: [rescue]
    - slow-start: [rescue]
    - stall-start: [rescue]
  context_window_fallbacks:
    - small-context: [big-context]
  model_group_alias: {gpt-latest: claude-sonnet-fallback, gpt-internal: {model: claude-sonnet-fallback, hidden: true}}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  for (const f of [primary, secondary, tertiary, fast, slow]) await f?.close();
});
beforeEach(() => {
  for (const f of [primary, secondary, tertiary, fast, slow]) f.reset();
  slow.setDefault({ kind: 'echo', delayMs: 120 });
});

const ask = (model: string, extra: Record<string, unknown> = {}) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra } as never).withResponse();
const failure = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'error' as const, status, body: openaiError({ message: `upstream ${status}`, type: 'server_error' }), headers });

describe('retries and fallbacks', () => {
  it('retry 500, 503 and 429 (honouring retry-after) the configured number of times, then fall back; headers report it', async () => {
    primary.enqueue(failure(429, { 'retry-after': '1' }), failure(500), failure(503));
    const started = Date.now();
    const { data, response } = await ask('gpt-4o-uae-primary');
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(primary.requests).toHaveLength(3);
    expect(secondary.requests).toHaveLength(1);
    expect(response.headers.get('x-litellm-attempted-retries')).toBe('2');
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(response.headers.get('x-litellm-model-group')).toBe('claude-sonnet-bedrock-me');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // waited out the retry-after
  });

  it('follow the reference guide\'s chain to its end when the first two fail', async () => {
    primary.setDefault(failure(503));
    secondary.setDefault(failure(500));
    const { data, response } = await ask('gpt-4o-uae-primary');
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(tertiary.requests).toHaveLength(1);
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('2');
    expect(response.headers.get('x-litellm-model-group')).toBe('claude-sonnet-fallback');
  });

  it('cut a provider that never answers at its timeout and serve from the fallback', async () => {
    primary.setDefault({ kind: 'hang' });
    const started = Date.now();
    const { data } = await ask('hangs');
    const took = Date.now() - started;
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    // One second per attempt (timeout: 1), three attempts (num_retries: 2), then the fallback: never 60 s.
    expect(took).toBeLessThan(6000);
    expect(tertiary.requests).toHaveLength(1);
  });

  it('take the request\'s own num_retries and timeout, from the body or x-litellm-* headers, over the config\'s', async () => {
    primary.setDefault(failure(500));
    const once = await ask('overridable', { num_retries: 0 });
    expect(once.data.choices[0]?.message.content).toBe('echo: hello there');
    expect(primary.requests).toHaveLength(1);
    expect(once.response.headers.get('x-litellm-attempted-retries')).toBe('0');
    primary.reset();
    primary.setDefault(failure(500));
    const twice = await client.chat.completions.create({ model: 'overridable', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-litellm-num-retries': '1' } }).withResponse();
    expect(primary.requests).toHaveLength(2);
    expect(twice.response.headers.get('x-litellm-attempted-retries')).toBe('1');

    // The deployment's timeout is 1 s; the request's 0.3 s cuts a hanging provider sooner.
    primary.reset();
    primary.setDefault({ kind: 'hang' });
    const started = Date.now();
    const cut = await client.chat.completions.create({ model: 'overridable', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-litellm-timeout': '0.3', 'x-litellm-num-retries': '0' } });
    expect(cut.choices[0]?.message.content).toBe('echo: hi');
    expect(Date.now() - started).toBeLessThan(950);
    expect(primary.requests).toHaveLength(1);

    const bad = await client.chat.completions.create({ model: 'overridable', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-litellm-timeout': 'soon' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.APIError>).message).toContain('x-litellm-timeout');
  });

  it('fall back when a stream\'s first byte is slower than stream_timeout', async () => {
    primary.setDefault({ kind: 'sse', firstByteDelayMs: 4000, events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['late'], promptTokens: 3, completionTokens: 1, includeUsage: true }), '[DONE]'] });
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'slow-start', stream: true, messages: [{ role: 'user', content: 'go' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: go');
    expect(Date.now() - started).toBeLessThan(4000 * 3);
    expect(tertiary.requests).toHaveLength(1);
  });

  it('fall back when a stream answers 200 at once but its first event is slower than stream_timeout', async () => {
    primary.setDefault({ kind: 'sse', firstEventDelayMs: 4000, events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['late'], promptTokens: 3, completionTokens: 1, includeUsage: true }), '[DONE]'] });
    const started = Date.now();
    const { data: stream, response } = await client.chat.completions.create({ model: 'stall-start', stream: true, messages: [{ role: 'user', content: 'go' }] }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: go');
    expect(response.headers.get('x-litellm-model-group')).toBe('rescue');
    // Each attempt is cut at stream_timeout (1 s) after its headers arrived, not left to stall for 4 s.
    expect(Date.now() - started).toBeLessThan(3 * 4000);
    expect(primary.requests.length).toBeGreaterThanOrEqual(1);
    expect(tertiary.requests).toHaveLength(1);
  });

  it('send a prompt too long for a model\'s context straight to context_window_fallbacks', async () => {
    const long = 'word '.repeat(200);
    const { response } = await client.chat.completions.create({ model: 'small-context', messages: [{ role: 'user', content: long }] }).withResponse();
    expect(primary.requests).toHaveLength(0);
    expect(secondary.requests).toHaveLength(1);
    expect(response.headers.get('x-litellm-model-group')).toBe('big-context');
  });

  it('honour the client\'s own fallbacks, and not retry a request the provider calls bad', async () => {
    primary.enqueue(failure(500), failure(500), failure(500));
    const { response } = await ask('flaky', { fallbacks: ['rescue'] });
    expect(['flaky', 'rescue']).toContain(response.headers.get('x-litellm-model-group'));
    primary.reset();
    secondary.reset();
    primary.setDefault({ kind: 'error', status: 400, body: openaiError({ message: 'bad param', type: 'invalid_request_error' }) });
    secondary.setDefault({ kind: 'error', status: 400, body: openaiError({ message: 'bad param', type: 'invalid_request_error' }) });
    const err = await ask('flaky').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(primary.requests.length + secondary.requests.length).toBe(1);
  });
});

describe('cooldowns', () => {
  it('skip a deployment after allowed_fails failures, in a new isolate too, and try it again after cooldown_time', async () => {
    // flaky has two deployments; the primary one fails every time.
    primary.setDefault(failure(500));
    let served = 0;
    // Until the failing deployment has failed allowed_fails + 1 times (the router picks it about half the
    // time, so a fixed number of calls can leave it one failure short), or 40 calls.
    for (let i = 0; i < 40 && primary.requests.length < 4; i++) {
      const { response } = await ask('flaky');
      if (response.headers.get('x-litellm-model-id') === 'flaky-secondary') served++;
    }
    // At most allowed_fails + 1 (4) calls reach the failing deployment: as in LiteLLM, the failure past
    // allowed_fails cools it down (fewer if earlier tests' failures are still within the minute).
    expect(primary.requests.length).toBeGreaterThanOrEqual(1);
    expect(primary.requests.length).toBeLessThanOrEqual(4);
    const before = primary.requests.length;
    for (let i = 0; i < 6; i++) expect((await ask('flaky')).response.headers.get('x-litellm-model-id')).toBe('flaky-secondary');
    expect(primary.requests).toHaveLength(before);

    // A fresh runtime (a new isolate) learns the cooldown from the group's shared health object.
    await stack.restartRuntime();
    for (let i = 0; i < 6; i++) expect((await ask('flaky')).response.headers.get('x-litellm-model-id')).toBe('flaky-secondary');
    expect(primary.requests).toHaveLength(before);

    primary.setDefault({ kind: 'echo' });
    await new Promise((r) => setTimeout(r, 8200));
    await eventually(async () => {
      await ask('flaky');
      return primary.requests.length > before ? true : undefined;
    }, 10_000);
    expect(served).toBeGreaterThan(0);
  }, 60_000);

  it('answer 429 "No deployments available" with the cooldown\'s retry-after when every deployment is cooling down', async () => {
    primary.setDefault(failure(500));
    secondary.setDefault(failure(500));
    for (let i = 0; i < 4; i++) await ask('flaky').catch(() => undefined);
    const err = await ask('flaky').catch((e: unknown) => e) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.message).toContain('No deployments available for selected model');
    expect(Number(err.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    primary.setDefault({ kind: 'echo' });
    secondary.setDefault({ kind: 'echo' });
    await new Promise((r) => setTimeout(r, 8200));
  }, 30_000);
});

describe('routing', () => {
  it('splits simple-shuffle traffic by weight over 1,000 calls', async () => {
    const counts: Record<string, number> = {};
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => ask('weighted')));
      for (const { response } of answers) {
        const id = response.headers.get('x-litellm-model-id') as string;
        counts[id] = (counts[id] ?? 0) + 1;
      }
    }
    // Expected 250 / 750; three standard deviations of a binomial(1000, 0.25) is about 41.
    expect(counts['weighted-a']).toBeGreaterThan(250 - 45);
    expect(counts['weighted-a']).toBeLessThan(250 + 45);
    expect((counts['weighted-a'] ?? 0) + (counts['weighted-b'] ?? 0)).toBe(1000);
  }, 60_000);

  it('routes wildcard groups and model_group_alias', async () => {
    const { data } = await ask('openai/gpt-4.1-mini');
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(tertiary.requests[0]?.body).toMatchObject({ model: 'gpt-4.1-mini' });
    const aliased = await ask('gpt-latest');
    expect(aliased.response.headers.get('x-litellm-model-group')).toBe('claude-sonnet-fallback');
    // A hidden alias routes too, but only the visible one is listed as a model.
    expect((await ask('gpt-internal')).response.headers.get('x-litellm-model-group')).toBe('claude-sonnet-fallback');
    const listed = (await client.models.list()).data.map((m) => m.id);
    expect(listed).toContain('gpt-latest');
    expect(listed).not.toContain('gpt-internal');
    expect((await client.models.retrieve('gpt-latest')).id).toBe('gpt-latest');
    // Anthropic's token count takes what /v1/messages serves: aliases and wildcard matches, not only group names.
    for (const model of ['gpt-latest', 'openai/gpt-4.1-mini']) {
      const res = await fetch(`${stack.url}/v1/messages/count_tokens`, {
        method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'How many tokens is this?' }] }),
      });
      expect(res.status, model).toBe(200);
      expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    }
  });

  it('records the deployment that served in the spend log', async () => {
    primary.setDefault(failure(503));
    secondary.setDefault(failure(500));
    const { response } = await ask('gpt-4o-uae-primary');
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ model_group: 'claude-sonnet-fallback', status: 'success' });
  });
});

describe('latency-based routing', () => {
  let latencyStack: TestStack;
  afterAll(async () => latencyStack?.stop());

  it('prefers the faster of two upstreams', async () => {
    latencyStack = await startTestStack({
      configYaml: `
model_list:
  - model_name: lb
    litellm_params: {model: openai/gpt-4o, api_base: "${fast.url}/v1", api_key: sk-a}
    model_info: {id: fast}
  - model_name: lb
    litellm_params: {model: openai/gpt-4o, api_base: "${slow.url}/v1", api_key: sk-b}
    model_info: {id: slow}
router_settings:
  routing_strategy: latency-based-routing
`,
    });
    const lb = new OpenAI({ baseURL: `${latencyStack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const picks: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { response } = await lb.chat.completions.create({ model: 'lb', messages: [{ role: 'user', content: 'x' }] }).withResponse();
      picks.push(response.headers.get('x-litellm-model-id') as string);
      await new Promise((r) => setTimeout(r, 40));
    }
    const later = picks.slice(10);
    expect(later.filter((p) => p === 'fast').length).toBeGreaterThanOrEqual(18);
  }, 60_000);
});
