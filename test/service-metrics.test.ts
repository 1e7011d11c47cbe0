import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { freshRedis, hasRedis, type TestRedis } from './support/redis.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's service health metrics (litellm_settings.service_callback: ["prometheus_system"]) on /metrics: the
// response cache's Redis calls and the admin Worker's Postgres queries, their latency, and their failures by error
// class and call.

/** The value of a series on a gateway's /metrics (0 when absent), polled until `until` holds it or 10 s pass. */
async function metricSeries(url: string, pattern: RegExp, until: (v: number) => boolean): Promise<{ value: number; text: string }> {
  let last = { value: 0, text: '' };
  for (let i = 0; i < 50; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    last = { value: [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0), text };
    if (until(last.value)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

describe.skipIf(!hasRedis())('service_callback: ["prometheus_system"]', () => {
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
  cache_params: {type: redis, url: os.environ/UPSTASH_REDIS_REST_URL, token: os.environ/UPSTASH_REDIS_REST_TOKEN}
  service_callback: ["prometheus_system"]
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

  const ask = (content: string) => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
  const series = (pattern: RegExp, until: (v: number) => boolean) => metricSeries(stack.url, pattern, until);

  it('counts and times each cache call to Redis (a miss, its write, a hit)', async () => {
    await ask('measure me');
    // The answer is written to Redis after the response (waitUntil): ask again once it is there.
    await eventually(async () => ((await redis.redis.keys('*tollgate:*')).some((k) => k !== 'tollgate:ping') ? true : undefined), 10_000);
    // A cache read slower than its 150 ms bound is a miss (counted as a TimeoutError) on a loaded machine: up to 3 tries for the hit.
    let hit = false;
    for (let i = 0; i < 3 && !hit; i++) {
      const before = fake.requests.length;
      expect((await ask('measure me')).choices[0]?.message.content).toBe('echo: measure me');
      hit = fake.requests.length === before;
    }
    expect(hit).toBe(true);
    const total = await series(/^litellm_redis_total_requests_total\{redis="redis"\} (\S+)$/gm, (v) => v >= 3);
    expect(total.value).toBeGreaterThanOrEqual(3);
    expect(total.text).toContain('# TYPE litellm_redis_latency histogram');
    // Every call is timed or counted as failed; the only failures a healthy Redis may show are timeouts, one per extra provider call at most.
    const failed = [...total.text.matchAll(/^litellm_redis_failed_requests_total\{(.*)\} (\S+)$/gm)];
    expect(failed.filter((m) => !m[1]?.includes('error_class="TimeoutError"')).map((m) => m[0])).toEqual([]);
    const failures = failed.reduce((n, m) => n + Number(m[2]), 0);
    const count = Number(/^litellm_redis_latency_count\{redis="redis"\} (\S+)$/m.exec(total.text)?.[1]);
    expect(count).toBe(total.value - failures);
    expect(count).toBeGreaterThanOrEqual(failures === 0 ? 3 : 1);
    expect(fake.requests.length - 1).toBeLessThanOrEqual(failures);
    expect(Number(/^litellm_redis_latency_sum\{redis="redis"\} (\S+)$/m.exec(total.text)?.[1])).toBeGreaterThan(0);
    expect(total.text).toMatch(/^litellm_redis_latency_bucket\{le="\+Inf",redis="redis"\} \d/m);
  });

  it('counts failed calls by error class and call while Redis is down; the request is still answered', async () => {
    await redis.stopRedis();
    try {
      expect((await ask('redis is down')).choices[0]?.message.content).toBe('echo: redis is down');
      const failed = await series(/^litellm_redis_failed_requests_total\{error_class="[A-Za-z]\w*",function_name="async_get_cache",redis="redis"\} (\S+)$/gm, (v) => v >= 1);
      expect(failed.value).toBeGreaterThanOrEqual(1);
      expect(failed.text).not.toContain(redis.env.UPSTASH_REDIS_REST_TOKEN);
    } finally {
      await redis.startRedis();
    }
  });
});

// The admin Worker's Postgres measures need no Redis: their own stack, without a cache.
describe('service_callback: ["prometheus_system"]: Postgres', () => {
  let fake: FakeUpstream;
  let stack: TestStack;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
litellm_settings:
  service_callback: ["prometheus_system"]
`,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.close();
  });

  const series = (pattern: RegExp, until: (v: number) => boolean) => metricSeries(stack.url, pattern, until);

  it('times the spend-log consumer\'s writes', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'spend me' }] })).choices[0]?.message.content).toBe('echo: spend me');
    // No admin request was made: these are the spend-log consumer's writes of the call.
    const spendWrites = await series(/^litellm_postgres_total_requests_total\{postgres="postgres"\} (\S+)$/gm, (v) => v > 0);
    expect(spendWrites.value).toBeGreaterThan(0);
    expect(spendWrites.text).not.toMatch(/^litellm_redis_/m);
  });

  const admin = (path: string) => fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });

  it('times the admin Worker\'s Postgres queries, and counts a failed one by error class and statement verb', async () => {
    const before = (await series(/^litellm_postgres_total_requests_total\{postgres="postgres"\} (\S+)$/gm, () => true)).value;
    expect((await admin('/team/list')).status).toBe(200);
    const total = await series(/^litellm_postgres_total_requests_total\{postgres="postgres"\} (\S+)$/gm, (v) => v > before);
    expect(total.value).toBeGreaterThan(before);
    expect(Number(/^litellm_postgres_latency_count\{postgres="postgres"\} (\S+)$/m.exec(total.text)?.[1])).toBeGreaterThan(0);

    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_TeamTable" RENAME TO "LiteLLM_TeamTable_away"');
    try {
      expect((await admin('/team/list')).status).toBeGreaterThanOrEqual(500);
    } finally {
      await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_TeamTable_away" RENAME TO "LiteLLM_TeamTable"');
    }
    const failed = await series(/^litellm_postgres_failed_requests_total\{error_class="[A-Za-z]\w*",function_name="select",postgres="postgres"\} (\S+)$/gm, (v) => v >= 1);
    expect(failed.value).toBeGreaterThanOrEqual(1);
    // Neither the statement nor its parameters reach a label.
    expect(failed.text).not.toMatch(/litellm_postgres_\w+\{[^}]*(LiteLLM_|SELECT|\$1)/);
  });
});
