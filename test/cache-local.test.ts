import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiAudioChatCompletion } from './fakes/openai-chat-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The embedded default: `cache: true` with the in-isolate LRU (no Redis).
let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
  - model_name: embedder
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${fake.url}/v1", api_key: sk-fake}
  - model_name: gpt-4o-elsewhere
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-fake}
router_settings:
  caching_groups: [[gpt-4o, gpt-4o-elsewhere]]
litellm_settings:
  cache: true
  cache_params: {type: local, ttl: 600}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const chat = (content: string, extra: Record<string, unknown> = {}) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra } as never).withResponse();

describe('the local response cache', () => {
  it('answers a repeated request from the cache at no cost, with x-litellm-cache-key, and logs the hit', async () => {
    const first = await chat('cache me please');
    expect(first.response.headers.get('x-litellm-cache-key')).toBeNull();
    const second = await chat('cache me please');
    expect(second.data.choices[0]?.message.content).toBe('echo: cache me please');
    expect(fake.requests).toHaveLength(1);
    const key = second.response.headers.get('x-litellm-cache-key');
    expect(key).toMatch(/^tollgate:[0-9a-f]{64}$/);
    expect(second.response.headers.get('x-litellm-response-cost')).toBe('0');
    const row = await eventually(() => spendLogRow(stack.db.url, second.response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ cache_hit: true, cache_key: key, spend: 0 });
  });

  it('answers a model group from the answers of the groups in its caching group, and no other', async () => {
    const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'shared across providers' }] }).withResponse();
    await ask('gpt-4o');
    const shared = await ask('gpt-4o-elsewhere');
    expect(fake.requests).toHaveLength(1);
    expect(shared.response.headers.get('x-litellm-cache-key')).toMatch(/^tollgate:/);
    expect(shared.response.headers.get('x-litellm-model-group')).toBe('gpt-4o-elsewhere');
    const row = await eventually(() => spendLogRow(stack.db.url, shared.response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ cache_hit: true, spend: 0, model_group: 'gpt-4o-elsewhere' });
    // And the other way round.
    const back = await client.chat.completions.create({ model: 'gpt-4o-elsewhere', messages: [{ role: 'user', content: 'asked elsewhere first' }] }).withResponse();
    expect(back.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect((await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'asked elsewhere first' }] }).withResponse()).response.headers.get('x-litellm-cache-key')).not.toBeNull();
    expect(fake.requests).toHaveLength(2);
    await ask('gpt-4o-mini');
    expect(fake.requests).toHaveLength(3);
  });

  it('misses when a parameter that changes the answer differs, and normalises key order and defaults', async () => {
    await chat('params', { temperature: 0.2 });
    await chat('params', { temperature: 0.7 });
    expect(fake.requests).toHaveLength(2);
    await client.chat.completions.create({ messages: [{ role: 'user', content: 'params' }], model: 'gpt-4o', temperature: 1 });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'params' }] });
    expect(fake.requests).toHaveLength(3);
  });

  it('replays a cached answer as a stream, and caches a streamed answer for later plain calls', async () => {
    await chat('stream me');
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream me' }] });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('echo: stream me');
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3 });
    expect(fake.requests).toHaveLength(1);

    const streamed = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'streamed first' }] });
    for await (const _ of streamed) { /* drain */ }
    await new Promise((r) => setTimeout(r, 100));
    const plain = await chat('streamed first');
    expect(plain.data.choices[0]?.message.content).toBe('echo: streamed first');
    expect(plain.response.headers.get('x-litellm-cache-key')).not.toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('honours no-cache, no-store, ttl and s-maxage', async () => {
    await chat('controls');
    await chat('controls', { cache: { 'no-cache': true } });
    expect(fake.requests).toHaveLength(2);
    await chat('not stored', { cache: { 'no-store': true } });
    await chat('not stored');
    expect(fake.requests).toHaveLength(4);
    await chat('short-lived', { cache: { ttl: 1 } });
    await new Promise((r) => setTimeout(r, 1300));
    await chat('short-lived');
    expect(fake.requests).toHaveLength(6);
    await new Promise((r) => setTimeout(r, 1100));
    const stale = await chat('short-lived', { cache: { 's-maxage': 1 } });
    expect(stale.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(fake.requests).toHaveLength(7);
  });

  it('refuses a control the key is not allowed to use', async () => {
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET allowed_cache_controls = '{no-cache}' WHERE token = $1`, [sha256(key)]);
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const ok = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'k' }], cache: { 'no-cache': true } } as never);
    expect(ok.choices).toHaveLength(1);
    const err = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'k' }], cache: { 'no-store': true } } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as Error).message).toContain('Not allowed to set no-store as a cache control');
  });

  it("answers a key's hit with its x-litellm-key-* headers, the spend unchanged by the free hit", async () => {
    const key = await seedKey(stack.db.url, { spend: 1.5 });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET max_budget = 10, rpm_limit = 50 WHERE token = $1', [sha256(key)]);
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hit headers' }] });
    const { response } = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hit headers' }] }).withResponse();
    expect(response.headers.get('x-litellm-cache-key')).not.toBeNull();
    expect(Number(response.headers.get('x-litellm-key-spend'))).toBeGreaterThanOrEqual(1.5);
    expect(response.headers.get('x-litellm-key-max-budget')).toBe('10');
    expect(response.headers.get('x-litellm-key-rpm-limit')).toBe('50');
  });

  it('caches embeddings', async () => {
    await client.embeddings.create({ model: 'embedder', input: ['same text'] });
    const again = await client.embeddings.create({ model: 'embedder', input: ['same text'] });
    expect(again.data).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('makes one upstream call for 20 concurrent identical requests', async () => {
    fake.setDefault({ kind: 'echo', delayMs: 300 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => chat('all at once')));
    expect(answers.every((a) => a.data.choices[0]?.message.content === 'echo: all at once')).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('replays an audio answer only while its audio id lives (message.audio.expires_at), never one already expired, nor an older one it refreshed', async () => {
    const audioAnswer = (id: string, expiresAt: number) => ({ kind: 'json' as const, body: openaiAudioChatCompletion(id, expiresAt) });
    const speak = (content: string, extra: Record<string, unknown> = {}) => chat(content, { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, ...extra });
    const now = Math.floor(Date.now() / 1000);
    fake.enqueue(audioAnswer('audio_live', now + 3600));
    await speak('say hello');
    const hit = await speak('say hello');
    expect(fake.requests).toHaveLength(1);
    expect(hit.response.headers.get('x-litellm-cache-key')).toMatch(/^tollgate:/);
    expect((hit.data.choices[0]?.message as { audio?: { id: string } }).audio?.id).toBe('audio_live');

    // A refresh (no-cache) answered with audio already expired stores nothing, and empties the key: the older
    // answer is not served after it (the Redis store does the same: test/cache-redis.test.ts).
    fake.enqueue(audioAnswer('audio_gone', now - 10), audioAnswer('audio_next', now + 3600));
    await speak('say hello', { cache: { 'no-cache': true } });
    const after = await speak('say hello');
    expect(fake.requests).toHaveLength(3);
    expect(after.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect((after.data.choices[0]?.message as { audio?: { id: string } }).audio?.id).toBe('audio_next');

    // An answer whose audio id has expired is not stored: the next request asks the provider again.
    fake.enqueue(audioAnswer('audio_gone', now - 10), audioAnswer('audio_fresh', now + 3600));
    await speak('say goodbye');
    const again = await speak('say goodbye');
    expect(fake.requests).toHaveLength(5);
    expect(again.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect((again.data.choices[0]?.message as { audio?: { id: string } }).audio?.id).toBe('audio_fresh');
  });

  it('still applies rate limits to hits', async () => {
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET rpm_limit = 2 WHERE token = $1', [sha256(key)]);
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const ask = () => keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'limited hit' }] });
    await ask();
    await ask();
    await expect(ask()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});
