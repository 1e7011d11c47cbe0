import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { freshRedis, hasRedis, type TestRedis } from './support/redis.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The Redis cache through @upstash/redis and the REST bridge, in front of a real redis-server.
describe.skipIf(!hasRedis())('the Redis response cache', () => {
  let fake: FakeUpstream;
  let redis: TestRedis;
  let stack: TestStack;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    redis = await freshRedis();
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
litellm_settings:
  cache: true
  cache_params: {type: redis, url: os.environ/UPSTASH_REDIS_REST_URL, token: os.environ/UPSTASH_REDIS_REST_TOKEN, ttl: 600, namespace: team-a}
`,
      env: redis.env,
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.close();
    await fake?.close();
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

  it('serves requests uncached while Redis is down, and caches again once it is back', async () => {
    await redis.stopRedis();
    try {
      const started = Date.now();
      const first = await ask('redis down');
      const second = await ask('redis down');
      expect(first.data.choices[0]?.message.content).toBe('echo: redis down');
      expect(second.response.headers.get('x-litellm-cache-key')).toBeNull();
      expect(fake.requests).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await redis.startRedis();
    }
    await ask('redis back');
    const again = await ask('redis back');
    expect(again.response.headers.get('x-litellm-cache-key')).not.toBeNull();
    expect(fake.requests).toHaveLength(3);
  });
});
