import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiAudioChatCompletion } from './fakes/openai-chat-format.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { freshRedis, hasRedis, type TestRedis } from './support/redis.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The Redis cache through @upstash/redis and the REST bridge, in front of a real redis-server.
describe.skipIf(!hasRedis())('the Redis response cache', () => {
  let fake: FakeUpstream;
  let slack: FakeSlack;
  let redis: TestRedis;
  let stack: TestStack;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    slack = await startFakeSlack();
    redis = await freshRedis();
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
litellm_settings:
  cache: true
  cache_params: {type: redis, url: os.environ/UPSTASH_REDIS_REST_URL, token: os.environ/UPSTASH_REDIS_REST_TOKEN, ttl: 600, namespace: team-a}
general_settings:
  alerting: ["slack"]
`,
      env: { ...redis.env, SLACK_WEBHOOK_URL: slack.url },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.close();
    await fake?.close();
    await slack?.close();
  });
  beforeEach(() => fake.reset());

  const ask = (content: string) => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();

  it('stores answers in Redis under the namespace, with the TTL, and serves hits from it', async () => {
    await ask('redis hit');
    const hit = await ask('redis hit');
    expect(hit.data.choices[0]?.message.content).toBe('echo: redis hit');
    expect(fake.requests).toHaveLength(1);
    const key = hit.response.headers.get('x-litellm-cache-key') as string;
    expect(key).toMatch(/^team-a:tollgate:[0-9a-f]{64}$/);
    expect(await redis.redis.exists(key)).toBe(1);
    const ttl = await redis.redis.ttl(key);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('keeps an audio answer at most until its audio expires, stores none whose audio has expired, and then holds no older one', async () => {
    const audioAnswer = (id: string, expiresAt: number) => ({ kind: 'json' as const, body: openaiAudioChatCompletion(id, expiresAt) });
    const speak = (cache?: Record<string, unknown>) => client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'say hello in redis' }], modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, ...(cache ? { cache } : {}),
    } as never).withResponse();
    const audioId = (r: Awaited<ReturnType<typeof speak>>) => (r.data.choices[0]?.message as { audio?: { id: string } }).audio?.id;
    const now = Math.floor(Date.now() / 1000);

    // Live audio: stored with the seconds left before expires_at (120), not the configured 600.
    fake.enqueue(audioAnswer('audio_live', now + 120));
    await speak();
    const hit = await speak();
    expect(fake.requests).toHaveLength(1);
    expect(audioId(hit)).toBe('audio_live');
    const key = hit.response.headers.get('x-litellm-cache-key') as string;
    const ttl = await redis.redis.ttl(key);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);

    // A refresh (no-cache) answered with audio already expired: not stored, and the older entry is gone too.
    fake.enqueue(audioAnswer('audio_gone', now - 10));
    expect(audioId(await speak({ 'no-cache': true }))).toBe('audio_gone');
    for (let i = 0; i < 50 && await redis.redis.exists(key) === 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await redis.redis.exists(key)).toBe(0);
    fake.enqueue(audioAnswer('audio_fresh', now + 3600));
    const again = await speak();
    expect(fake.requests).toHaveLength(3);
    expect(again.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(audioId(again)).toBe('audio_fresh');
  });

  it('expires entries after their TTL', async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'brief' }], cache: { ttl: 1 } } as never);
    await new Promise((r) => setTimeout(r, 2100));
    await ask('brief');
    expect(fake.requests).toHaveLength(2);
  });

  it('answers the cache admin routes: ping, delete, flushall', async () => {
    const call = (path: string, init: RequestInit = {}) => fetch(`${stack.url}${path}`, { ...init, headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' } });
    const ping = await call('/cache/ping');
    expect(await ping.json()).toMatchObject({ status: 'healthy', cache_type: 'redis', ping_response: true });
    const { response } = await ask('to delete');
    await ask('to delete');
    const key = (await ask('to delete')).response.headers.get('x-litellm-cache-key') as string;
    expect(key).toBeTruthy();
    void response;
    expect(await (await call('/cache/delete', { method: 'POST', body: JSON.stringify({ keys: [key] }) })).json()).toMatchObject({ status: 'success', deleted: 1 });
    expect(await redis.redis.exists(key)).toBe(0);
    await ask('flush me');
    await redis.redis.set('someone-elses-key', 'keep');
    const flushed = await (await call('/cache/flushall', { method: 'POST' })).json() as { deleted: number };
    expect(flushed.deleted).toBeGreaterThanOrEqual(1);
    expect((await redis.redis.keys('*tollgate:*')).filter((k) => k !== 'tollgate:ping')).toEqual([]);
    expect(await redis.redis.get('someone-elses-key')).toBe('keep');
    const bad = await call('/cache/delete', { method: 'POST', body: JSON.stringify({ keys: [] }) });
    expect(bad.status).toBe(422);
  });

  it('serves requests uncached while Redis is down, says so in a metric and an alert, and caches again once it is back', async () => {
    await redis.stopRedis();
    try {
      const started = Date.now();
      const first = await ask('redis down');
      const second = await ask('redis down');
      expect(first.data.choices[0]?.message.content).toBe('echo: redis down');
      expect(second.response.headers.get('x-litellm-cache-key')).toBeNull();
      expect(fake.requests).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(3000);
      // Operators hear about it: a counter on /metrics and one Slack alert (not one per request).
      const alerts = await slack.waitFor(/Cache Unavailable/, 1, 10_000);
      expect(alerts[0]?.text).toContain('requests are served uncached');
      expect(alerts[0]?.text).not.toContain(redis.env.UPSTASH_REDIS_REST_TOKEN);
      let failures = 0;
      for (let i = 0; i < 50 && failures < 2; i++) {
        const text = await (await fetch(`${stack.url}/metrics`)).text();
        failures = [...text.matchAll(/^tollgate_cache_errors_total\{reason="(?:error|timeout)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
        if (failures < 2) await new Promise((r) => setTimeout(r, 200));
      }
      expect(failures).toBeGreaterThanOrEqual(2);
      // Without service_callback: ["prometheus_system"], no service metrics are recorded (test/service-metrics.test.ts has them on).
      expect(await (await fetch(`${stack.url}/metrics`)).text()).not.toMatch(/^litellm_redis_\w+\{/m);
      await ask('redis down');
      await new Promise((r) => setTimeout(r, 1500));
      expect(slack.matching(/Cache Unavailable/)).toHaveLength(1);
    } finally {
      await redis.startRedis();
    }
    await ask('redis back');
    const again = await ask('redis back');
    expect(again.response.headers.get('x-litellm-cache-key')).not.toBeNull();
    expect(fake.requests).toHaveLength(4); // three while Redis was down, one to fill the cache after
  });
});
