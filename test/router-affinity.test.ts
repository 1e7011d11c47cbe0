import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient } from './support/admin.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's `router_settings.optional_pre_call_checks` through workerd: a session, a cached prompt prefix
 * or a key pinned to the deployment that served it (router/affinity.ts, the pins in the group's
 * DeploymentHealth object), and `enforce_model_rate_limits` (deployments' rpm as a hard limit). Each group
 * has two deployments on two fake upstreams; `x-litellm-model-id` says which one served a call.
 */

let a: FakeUpstream;
let b: FakeUpstream;
let stack: TestStack;
let client: OpenAI;
const { ok: admin } = adminClient(() => stack);

const deployment = (group: string, id: string, upstream: () => FakeUpstream, extra = '') => `
  - model_name: ${group}
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream().url}/v1", api_key: sk-${id}-0001${extra}}
    model_info: {id: ${id}}`;

beforeAll(async () => {
  [a, b] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  stack = await startTestStack({
    configYaml: `
model_list:
${deployment('sticky', 'sticky-a', () => a)}
${deployment('sticky', 'sticky-b', () => b)}
${deployment('keyed', 'keyed-a', () => a)}
${deployment('keyed', 'keyed-b', () => b)}
${deployment('limited', 'limited-a', () => a, ', rpm: 2')}
${deployment('limited', 'limited-b', () => b, ', rpm: 2')}
${deployment('slow-limited', 'slow-limited-a', () => a, ', rpm: 3')}
${deployment('retry-limited', 'retry-limited-a', () => a, ', rpm: 1')}
router_settings:
  num_retries: 1
  optional_pre_call_checks: [session_affinity, prompt_caching, enforce_model_rate_limits, responses_api_deployment_check]
  model_group_affinity_config: {keyed: [deployment_affinity]}
  deployment_affinity_ttl_seconds: 600
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await a?.close();
  await b?.close();
});

beforeEach(() => {
  a.reset();
  b.reset();
});

/** Which deployment served a chat call, by the gateway's own header. */
async function servedBy(model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, as = client): Promise<string> {
  const { response } = await as.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as never, { headers }).withResponse();
  return response.headers.get('x-litellm-model-id') ?? '';
}

async function servers(n: number, call: (i: number) => Promise<string>): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await call(i));
  return seen;
}

/** A system prompt over 1,024 tokens with a cache_control breakpoint, then a question that differs per call. */
function cachedPrompt(topic: string, question: string) {
  const text = Array.from({ length: 700 }, (_, i) => `${topic} clause ${i} says nothing at all.`).join(' ');
  return {
    messages: [
      { role: 'system', content: [{ type: 'text', text, cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: question },
    ],
  };
}

describe('optional_pre_call_checks: affinity', () => {
  it('without a pin, calls are spread over both deployments (so the pins below are not luck)', async () => {
    expect(await servers(24, () => servedBy('sticky'))).toEqual(new Set(['sticky-a', 'sticky-b']));
  });

  it('session_affinity: every call of a session goes to the deployment that served its first; sessions are independent', async () => {
    const first = await servedBy('sticky', { metadata: { session_id: 'session-one' } });
    expect(await servers(12, () => servedBy('sticky', { metadata: { session_id: 'session-one' } }))).toEqual(new Set([first]));
    // The same session named by LiteLLM's header or body field is the same pin.
    expect(await servedBy('sticky', {}, { 'x-litellm-session-id': 'session-one' })).toBe(first);
    expect(await servedBy('sticky', { litellm_session_id: 'session-one' })).toBe(first);
    const others = new Set<string>();
    for (let i = 0; i < 16; i++) others.add(await servedBy('sticky', { metadata: { session_id: `other-${i}` } }));
    expect(others).toEqual(new Set(['sticky-a', 'sticky-b']));
  });

  it('a pinned deployment that fails is left for the other, and the session is pinned there from then on', async () => {
    const first = await servedBy('sticky', { metadata: { session_id: 'failover' } });
    const [pinnedUpstream, other] = first === 'sticky-a' ? [a, 'sticky-b'] : [b, 'sticky-a'];
    pinnedUpstream.enqueue({ kind: 'error', status: 500, body: openaiError({ message: 'upstream broke', type: 'server_error' }) });
    expect(await servedBy('sticky', { metadata: { session_id: 'failover' } })).toBe(other);
    expect(await servers(8, () => servedBy('sticky', { metadata: { session_id: 'failover' } }))).toEqual(new Set([other]));
  });

  it('prompt_caching: prompts sharing a cached prefix go to the deployment that cached it, whatever follows the breakpoint', async () => {
    const first = await servedBy('sticky', cachedPrompt('alpha', 'question 0'));
    expect(await servers(10, (i) => servedBy('sticky', cachedPrompt('alpha', `question ${i + 1}`)))).toEqual(new Set([first]));
    // A different prefix is not pinned by that one: twenty of them land on both deployments.
    expect(await servers(20, (i) => servedBy('sticky', cachedPrompt(`topic-${i}`, 'question')))).toEqual(new Set(['sticky-a', 'sticky-b']));
  });

  it('deployment_affinity, set for one group by model_group_affinity_config: a key keeps its deployment there, and only there', async () => {
    const first = await servedBy('keyed');
    expect(await servers(10, () => servedBy('keyed'))).toEqual(new Set([first]));
    // Other groups follow optional_pre_call_checks, which does not name deployment_affinity.
    expect(await servers(24, () => servedBy('sticky'))).toEqual(new Set(['sticky-a', 'sticky-b']));
    // Each key has a pin of its own: every virtual key keeps to one deployment, and the keys are spread over both.
    const firsts = new Set<string>();
    for (let k = 0; k < 20; k++) {
      const { key } = await admin('/key/generate', {});
      const asKey = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key as string, maxRetries: 0 });
      const own = await servers(3, () => servedBy('keyed', {}, {}, asKey));
      expect(own.size).toBe(1);
      firsts.add([...own][0]!);
    }
    expect(firsts).toEqual(new Set(['keyed-a', 'keyed-b']));
  });
});

describe('optional_pre_call_checks: enforce_model_rate_limits', () => {
  it('a deployment at its rpm this minute is not called, and a group with none left answers 429 with retry-after', async () => {
    // Four calls fit (two a deployment) within one minute: start with time to spare before it turns.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const served = [];
    for (let i = 0; i < 4; i++) served.push(await servedBy('limited'));
    expect(served.sort()).toEqual(['limited-a', 'limited-a', 'limited-b', 'limited-b']);
    const upstreamCalls = a.requests.length + b.requests.length;
    const refused = await client.chat.completions.create({ model: 'limited', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const err = refused as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err.message).toContain('No deployments available for selected model');
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(a.requests.length + b.requests.length).toBe(upstreamCalls);
  });

  it('a retry is an attempt like any other: a deployment whose one request a minute failed is not called again', async () => {
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    a.enqueue({ kind: 'error', status: 500, body: openaiError({ message: 'upstream broke', type: 'server_error' }) });
    const refused = await servedBy('retry-limited').then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(a.requests.length).toBe(1);
  });

  it('calls in flight count: of six sent at once to a deployment with rpm 3, three are served and three refused', async () => {
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    for (let i = 0; i < 6; i++) a.enqueue({ kind: 'echo', delayMs: 1_500 });
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => servedBy('slow-limited').then(() => 'served', (err: unknown) => (err instanceof OpenAI.RateLimitError ? 'refused' : String(err)))));
    expect(outcomes.sort()).toEqual(['refused', 'refused', 'refused', 'served', 'served', 'served']);
    expect(a.requests.length).toBe(3);
    // Still refused once the served calls have ended and the shared count has been read back.
    expect(await servedBy('slow-limited').then(() => 'served', (err: unknown) => (err instanceof OpenAI.RateLimitError ? 'refused' : String(err)))).toBe('refused');
  });
});
