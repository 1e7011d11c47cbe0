import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.background_health_checks: the gateway's cron tick probes every deployment each
// health_check_interval and GET /health answers from the stored results, without calling anyone.
// The tick is run through the test-mode route, with the time it would have been scheduled at.

let fake: FakeUpstream;
let stack: TestStack;
const INTERVAL_MS = 300_000;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: good
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: dead
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: quiet
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
    model_info: {disable_background_health_check: true}
general_settings:
  background_health_checks: true
  health_check_interval: 300
`,
    env: { FAKE_OPENAI_KEY: 'sk-upstream-openai-secret-0003' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

type Health = { healthy_endpoints: { model_group: string; model_id: string }[]; unhealthy_endpoints: { model_group: string; error: string }[]; healthy_count: number; unhealthy_count: number };
const health = async (key = TEST_MASTER_KEY) => {
  const res = await fetch(`${stack.url}/health`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(text).not.toContain('sk-upstream-openai-secret-0003');
  return JSON.parse(text) as Health;
};
const tick = async (scheduledTime: number) => {
  const res = await fetch(`${stack.url}/__tollgate/test/scheduled`, { method: 'POST', body: JSON.stringify({ scheduled_time: scheduledTime }) });
  expect(res.status).toBe(200);
};
const probesSent = () => fake.requests.filter((r) => r.path === '/v1/chat/completions').length;

describe('background health checks', () => {
  it('answer GET /health from the latest background run, which probes each deployment on the ticks the interval aligns to', async () => {
    // Before any run: nothing known, and GET /health calls no one.
    expect(await health()).toEqual({ healthy_endpoints: [], unhealthy_endpoints: [], healthy_count: 0, unhealthy_count: 0 });
    expect(probesSent()).toBe(0);

    // A tick the interval does not align to does nothing.
    await tick(INTERVAL_MS * 1000 + 120_000);
    expect(probesSent()).toBe(0);

    await tick(INTERVAL_MS * 1000 + 5_000);
    // One probe reached the fake: "good" (the "dead" one's connection is refused, "quiet" is skipped).
    expect(probesSent()).toBe(1);
    expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-4o', max_tokens: 1 });
    const after = await health();
    expect(after.healthy_endpoints.map((e) => e.model_group)).toEqual(['good']);
    expect(after.unhealthy_endpoints).toEqual([expect.objectContaining({ model_group: 'dead', error: expect.any(String) })]);
    expect([after.healthy_count, after.unhealthy_count]).toEqual([1, 1]);
    expect(probesSent()).toBe(1);

    // Another tick of the same interval (another replica's cron) finds the run done and probes no one.
    await tick(INTERVAL_MS * 1000 + 30_000);
    expect(probesSent()).toBe(1);

    // Each run is kept as LiteLLM keeps it, one row per deployment.
    const rows = await query(stack.db.url, 'SELECT model_name, status, checked_by, error_message IS NOT NULL AS failed FROM "LiteLLM_HealthCheckTable" ORDER BY model_name');
    expect(rows).toEqual([
      { model_name: 'dead', status: 'unhealthy', checked_by: 'background', failed: true },
      { model_name: 'good', status: 'healthy', checked_by: 'background', failed: false },
    ]);
  });

  it('report a deployment that fails at the next run as unhealthy, and show a key only what it may call', async () => {
    fake.enqueue({ kind: 'error', status: 500, body: { error: { message: 'upstream on fire', type: 'server_error' } } });
    await tick(INTERVAL_MS * 1001);
    const now = await health();
    expect(now.healthy_count).toBe(0);
    expect(now.unhealthy_endpoints.map((e) => e.model_group).sort()).toEqual(['dead', 'good']);
    expect(now.unhealthy_endpoints.find((e) => e.model_group === 'good')?.error).toContain('upstream on fire');

    const key = await seedKey(stack.db.url, { models: ['good'] });
    const mine = await health(key);
    expect(mine.unhealthy_endpoints.map((e) => e.model_group)).toEqual(['good']);
    expect(mine.healthy_count + mine.unhealthy_count).toBe(1);
  });

  it('stop reporting results older than two intervals, as when the cron has stopped', async () => {
    await query(stack.db.url, `UPDATE "LiteLLM_HealthCheckTable" SET checked_at = now() - interval '1 hour'`);
    expect(await health()).toEqual({ healthy_endpoints: [], unhealthy_endpoints: [], healthy_count: 0, unhealthy_count: 0 });
  });
});
