import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * Caps on calls in flight, counted across isolates: a deployment's `litellm_params.max_parallel_requests`
 * (`router_settings.default_max_parallel_requests` for those that set none) and the proxy's
 * `general_settings.global_max_parallel_requests`. The fakes count the requests they have in flight.
 */

const PROMPT = 'one two three four five six';

let capped: FakeUpstream;
let spare: FakeUpstream;
let alone: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  [capped, spare, alone] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]) as [FakeUpstream, FakeUpstream, FakeUpstream];
  const oa = (upstream: FakeUpstream, extra = '') => `{model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-fake${extra}}`;
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: pair
    litellm_params: ${oa(capped, ', max_parallel_requests: 2')}
    model_info: {id: pair-capped}
  - model_name: pair
    litellm_params: ${oa(spare, ', max_parallel_requests: 100')}
    model_info: {id: pair-spare}
  - model_name: alone
    litellm_params: ${oa(alone)}
    model_info: {id: alone-deployment}
router_settings:
  num_retries: 0
  default_max_parallel_requests: 2
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([capped, spare, alone].map((f) => f?.close()));
});
beforeEach(() => {
  for (const f of [capped, spare, alone]) f.reset();
});

const clientOf = (s: TestStack) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });

type Outcome = { id: string } | { status: number; message: string; retryAfter: string | null };

async function call(s: TestStack, model: string): Promise<Outcome> {
  try {
    const { response } = await clientOf(s).chat.completions.create({ model, messages: [{ role: 'user', content: PROMPT }] }).withResponse();
    return { id: response.headers.get('x-litellm-model-id') ?? '' };
  } catch (err) {
    const e = err as { status?: number; message?: string; headers?: Headers | Record<string, string> };
    const headers = e.headers instanceof Headers ? e.headers : new Headers(e.headers ?? {});
    return { status: e.status ?? 0, message: e.message ?? String(err), retryAfter: headers.get('retry-after') };
  }
}

/** Until `check` passes, or fails for good after `ms`. */
async function eventually(check: () => void | Promise<void>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('a deployment\'s max_parallel_requests', () => {
  it('lets at most 2 calls reach it at once; the others go to the group\'s other deployment', async () => {
    capped.setDefault({ kind: 'echo', delayMs: 800 });
    spare.setDefault({ kind: 'echo', delayMs: 800 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => call(stack, 'pair')));
    expect(outcomes.every((o) => 'id' in o)).toBe(true);
    expect(capped.peakInFlight).toBeLessThanOrEqual(2);
    expect(capped.requests.length + spare.requests.length).toBe(5);
    // At least three of the five had to go elsewhere (the capped one serves two at most while all five are in flight).
    expect(spare.requests.length).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => 'id' in o && o.id === 'pair-spare').length).toBe(spare.requests.length);
  });

  it('(router_settings.default_max_parallel_requests) makes calls to a group\'s only deployment wait briefly for a slot', async () => {
    alone.setDefault({ kind: 'echo', delayMs: 300 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => call(stack, 'alone')));
    expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ id: 'alone-deployment' })));
    expect(alone.requests.length).toBe(5);
    expect(alone.peakInFlight).toBe(2);
  });

  it('answers LiteLLM\'s "No deployments available" 429 with retry-after when no slot frees within the wait', async () => {
    alone.setDefault({ kind: 'echo', delayMs: 3_500 });
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => call(stack, 'alone')));
    const served = outcomes.filter((o) => 'id' in o);
    const refused = outcomes.filter((o): o is Extract<Outcome, { status: number }> => 'status' in o);
    expect(served.length).toBe(2);
    expect(refused.length).toBe(3);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.message).toContain('No deployments available for selected model');
      expect(r.message).toContain('max_parallel_requests');
      expect(r.retryAfter).toBe('1');
    }
    expect(alone.requests.length).toBe(2);
    expect(alone.peakInFlight).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it('gives slots back after failed calls', async () => {
    alone.setDefault({ kind: 'error', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    for (let i = 0; i < 6; i++) {
      const outcome = await call(stack, 'alone');
      expect(outcome).toMatchObject({ status: 500 });
    }
    alone.reset();
    alone.setDefault({ kind: 'echo', delayMs: 1_000 });
    const started = Date.now();
    const outcomes = await Promise.all([call(stack, 'alone'), call(stack, 'alone')]);
    expect(outcomes).toEqual([{ id: 'alone-deployment' }, { id: 'alone-deployment' }]);
    // Both at once: neither waited for a slot a failed call kept.
    expect(alone.peakInFlight).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_900);
  });

  it('gives slots back when the client leaves a stream early', async () => {
    alone.setDefault({ kind: 'echo', intervalMs: 400 });
    for (let i = 0; i < 2; i++) {
      const controller = new AbortController();
      const stream = await clientOf(stack).chat.completions.create({ model: 'alone', stream: true, messages: [{ role: 'user', content: PROMPT }] }, { signal: controller.signal });
      try {
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) controller.abort();
      } catch {
        // the SDK throws on abort
      }
    }
    await eventually(() => expect(alone.inFlight).toBe(0));
    // Once the gateway has seen both streams end, two calls run at once again, without waiting.
    await eventually(async () => {
      alone.reset();
      alone.setDefault({ kind: 'echo', delayMs: 1_000 });
      const started = Date.now();
      const outcomes = await Promise.all([call(stack, 'alone'), call(stack, 'alone')]);
      expect(outcomes).toEqual([{ id: 'alone-deployment' }, { id: 'alone-deployment' }]);
      expect(alone.peakInFlight).toBe(2);
      expect(Date.now() - started).toBeLessThan(1_900);
    });
  });

  it('holds a slot until a stream has ended, not only until it began', async () => {
    alone.setDefault({ kind: 'echo', intervalMs: 100 });
    const reads = Array.from({ length: 3 }, async () => {
      const stream = await clientOf(stack).chat.completions.create({ model: 'alone', stream: true, messages: [{ role: 'user', content: PROMPT }] });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    });
    const texts = await Promise.all(reads);
    expect(texts.every((t) => t.length > 0)).toBe(true);
    expect(alone.peakInFlight).toBe(2);
  });
});

describe('general_settings.global_max_parallel_requests', () => {
  let upstream: FakeUpstream;
  let proxy: TestStack;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ default: { kind: 'echo', delayMs: 1_000 } });
    proxy = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-fake}
  - model_name: other
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream.url}/v1", api_key: sk-fake}
router_settings:
  num_retries: 0
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  global_max_parallel_requests: 3
`,
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it('answers 429 beyond N calls in flight (any model), and admits again once they end', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, (_, i) => call(proxy, i % 2 ? 'other' : 'gpt-4o')));
    const refused = outcomes.filter((o): o is Extract<Outcome, { status: number }> => 'status' in o);
    expect(outcomes.filter((o) => 'id' in o).length).toBe(3);
    expect(refused.length).toBe(2);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.message).toContain('Max parallel request limit reached Hit Global Limit: Limit=3');
      expect(r.retryAfter).toBe('1');
    }
    expect(upstream.peakInFlight).toBe(3);
    await eventually(async () => {
      const again = await Promise.all(Array.from({ length: 3 }, () => call(proxy, 'gpt-4o')));
      expect(again.every((o) => 'id' in o)).toBe(true);
    });
  });

  it('counts a call until its stream ends, and gives the slot back when it fails', async () => {
    upstream.setDefault({ kind: 'error', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    for (let i = 0; i < 5; i++) expect(await call(proxy, 'gpt-4o')).toMatchObject({ status: 500 });
    upstream.reset();
    upstream.setDefault({ kind: 'echo', intervalMs: 300 });
    const streams = await Promise.all(Array.from({ length: 3 }, () => clientOf(proxy).chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: PROMPT }] })));
    // Three streams running: a fourth call is refused while they are.
    expect(await call(proxy, 'gpt-4o')).toMatchObject({ status: 429 });
    await Promise.all(streams.map(async (s) => {
      for await (const _ of s) { /* read to the end */ }
    }));
    upstream.setDefault({ kind: 'echo' });
    await eventually(async () => expect('id' in await call(proxy, 'gpt-4o')).toBe(true));
  });
});
