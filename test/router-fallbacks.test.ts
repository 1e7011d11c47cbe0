import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiChatChunks, openaiError } from './fakes/openai-format.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { asker, failure, type RouterStack, resetRouterFakes, startRouterStack, stopRouterStack } from './support/router-stack.ts';
import type { TestStack } from './support/stack.ts';

// The router: retries, timeouts, fallbacks, and a request's own retries and timeouts.

let r: RouterStack;
let primary: FakeUpstream;
let secondary: FakeUpstream;
let tertiary: FakeUpstream;
let slow: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  r = await startRouterStack();
  ({ primary, secondary, tertiary, slow, stack, client } = r);
});
afterAll(() => stopRouterStack(r));
beforeEach(() => resetRouterFakes(r));

const ask = asker(() => client);

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
    // No call retried: the group it skipped is one fallback, not a retry (nor minus one).
    expect(response.headers.get('x-litellm-attempted-retries')).toBe('0');
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
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
