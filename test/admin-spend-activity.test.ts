import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEND_CONFIG, adminClient, insertSpendRow, seedSpend, type SpendKeys } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// The admin UI's usage reports over the seeded rows of test/support/admin.ts SPEND_ROWS (r1..r5 in
// 2026-01-01..02), with providers, deployments and tags set here, and three rows of this month.
let stack: TestStack;
let keys: SpendKeys;
let noUserKey: string;
const { call } = adminClient(() => stack);
const RANGE = 'start_date=2026-01-01&end_date=2026-01-02';
const recent = { justNow: new Date(Date.now() - 60_000), twoDaysAgo: new Date(Date.now() - 2 * 86_400_000) };
const day = (d: Date) => d.toISOString().slice(0, 10);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: SPEND_CONFIG });
  keys = await seedSpend(stack.db.url);
  noUserKey = await seedKey(stack.db.url, {});
  const set = (id: string, provider: string, modelId: string, tags: string[]) => query(stack.db.url,
    'UPDATE "LiteLLM_SpendLogs" SET custom_llm_provider = $2, model_id = $3, request_tags = $4::jsonb WHERE request_id = $1', [id, provider, modelId, JSON.stringify(tags)]);
  await set('r1', 'openai', 'd1', ['prod', 'team-a']);
  await set('r2', 'azure', 'd2', ['prod']);
  await set('r3', 'openai', 'd1', []);
  await set('r4', 'openai', 'd1', ['batch']);
  // r5 was refused before any deployment: no model_id, no provider.
  await set('r5', '', '', []);
  await insertSpendRow(stack.db.url, keys, { id: 'm1', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 0.5, prompt: 1, completion: 1, at: recent.justNow.toISOString(), user: 'u1' });
  await insertSpendRow(stack.db.url, keys, { id: 'm2', key: 'b', team: 'team-b', model: 'gpt-4o', spend: 0.25, prompt: 1, completion: 1, at: recent.justNow.toISOString(), user: 'u3' });
  await insertSpendRow(stack.db.url, keys, { id: 'm3', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 1, prompt: 1, completion: 1, at: recent.twoDaysAgo.toISOString(), user: 'u1' });
});
afterAll(() => stack?.stop());

describe('GET /global/activity and /global/activity/model', () => {
  it('count requests and tokens per day, in the chart labels LiteLLM uses; an internal user sees its own', async () => {
    const all = await call(`/global/activity?${RANGE}`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      daily_data: [{ date: 'Jan 01', api_requests: 3, total_tokens: 170 }, { date: 'Jan 02', api_requests: 2, total_tokens: 210 }],
      sum_api_requests: 5, sum_total_tokens: 380,
    });
    expect((await call(`/global/activity?${RANGE}`, undefined, keys.viewer)).body).toEqual(all.body);
    expect((await call(`/global/activity?${RANGE}`, undefined, keys.a1)).body).toEqual({
      daily_data: [{ date: 'Jan 01', api_requests: 1, total_tokens: 100 }, { date: 'Jan 02', api_requests: 1, total_tokens: 200 }],
      sum_api_requests: 2, sum_total_tokens: 300,
    });
  });

  it('group per model group, busiest first', async () => {
    const res = await call(`/global/activity/model?${RANGE}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { model: 'gpt-4o', sum_api_requests: 3, sum_total_tokens: 320, daily_data: [
        { model_group: 'gpt-4o', date: 'Jan 01', api_requests: 2, total_tokens: 120 },
        { model_group: 'gpt-4o', date: 'Jan 02', api_requests: 1, total_tokens: 200 },
      ] },
      { model: 'gpt-4o-mini', sum_api_requests: 2, sum_total_tokens: 60, daily_data: [
        { model_group: 'gpt-4o-mini', date: 'Jan 01', api_requests: 1, total_tokens: 50 },
        { model_group: 'gpt-4o-mini', date: 'Jan 02', api_requests: 1, total_tokens: 10 },
      ] },
    ]);
  });

  it('need both dates, and a key that is an admin or has a user', async () => {
    for (const path of ['/global/activity', '/global/activity/model', '/global/spend/provider']) {
      const res = await call(`${path}?start_date=2026-01-01`);
      expect(res.status, path).toBe(400);
      expect(res.body.error.message, path).toBe('Please provide start_date and end_date');
      expect((await call(`${path}?${RANGE}`, undefined, noUserKey)).status, path).toBe(403);
      expect((await call(`${path}?start_date=2026-01-01&end_date=2026-13-01`)).status, path).toBe(422);
    }
  });
});

describe('GET /global/spend/provider', () => {
  it('sums spend per provider of the calls that reached a deployment; an internal user sees its own', async () => {
    expect((await call(`/global/spend/provider?${RANGE}`)).body).toEqual([{ provider: 'openai', spend: 3.25 }, { provider: 'azure', spend: 0.5 }]);
    expect((await call(`/global/spend/provider?${RANGE}`, undefined, keys.a1)).body).toEqual([{ provider: 'openai', spend: 3 }]);
  });
});

describe('GET /global/spend/logs', () => {
  it('sums spend per day of the last 30 days, of every key, one key, or an internal user\'s keys', async () => {
    const days = [day(recent.twoDaysAgo), day(recent.justNow)];
    expect((await call('/global/spend/logs')).body).toEqual([{ date: days[0], spend: 1 }, { date: days[1], spend: 0.75 }]);
    expect((await call(`/global/spend/logs?api_key=${keys.a1}`)).body).toEqual([
      { date: days[0], spend: 1, api_key: sha256(keys.a1) }, { date: days[1], spend: 0.5, api_key: sha256(keys.a1) },
    ]);
    expect((await call(`/global/spend/logs?api_key=${sha256(keys.b)}`)).body).toEqual([{ date: days[1], spend: 0.25, api_key: sha256(keys.b) }]);
    expect((await call('/global/spend/logs', undefined, keys.b)).body).toEqual([{ date: days[1], spend: 0.25, api_key: sha256(keys.b), user: 'u3' }]);
  });
});

describe('end users', () => {
  it('POST /global/spend/end_users ranks end users by spend in a time range, optionally of one key', async () => {
    const range = { startTime: '2026-01-01', endTime: '2026-01-03' };
    expect((await call('/global/spend/end_users', range)).body).toEqual([
      { end_user: 'c1', total_count: 2, total_spend: 3 },
      { end_user: 'c2', total_count: 1, total_spend: 0.5 },
      { end_user: null, total_count: 2, total_spend: 0.375 },
    ]);
    expect((await call('/global/spend/end_users', { ...range, api_key: keys.a2 })).body).toEqual([{ end_user: 'c2', total_count: 1, total_spend: 0.5 }]);
    // The default range is the last 30 days: only this month's rows, which have no end user.
    expect((await call('/global/spend/end_users', {})).body).toEqual([{ end_user: null, total_count: 3, total_spend: 1.75 }]);
  });

  it('POST /global/spend/end_users refuses bad input and non-admins', async () => {
    const bad = await call('/global/spend/end_users', { startTime: 'yesterday-ish' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: 'startTime', message: 'startTime is not a date' });
    expect((await call('/global/spend/end_users', { start: '2026-01-01' })).status).toBe(422);
    expect((await call('/global/spend/end_users', {}, keys.a1)).status).toBe(403);
  });

  it('GET /global/all_end_users lists every end user seen', async () => {
    expect((await call('/global/all_end_users')).body).toEqual({ end_users: ['c1', 'c2', null] });
    expect((await call('/global/all_end_users', undefined, keys.a1)).status).toBe(403);
  });
});

describe('GET /global/spend/all_tag_names', () => {
  it('names every tag calls carried, from the daily tag rollups, for admins and viewers', async () => {
    await query(stack.db.url, `INSERT INTO "LiteLLM_DailyTagSpend" (tag, date, api_key, model, custom_llm_provider, endpoint, spend, api_requests)
      VALUES ('zeta', '2026-01-01', 'k', 'm', 'openai', '/chat/completions', 1, 1), ('alpha', '2026-01-01', 'k', 'm', 'openai', '/chat/completions', 1, 1),
        ('alpha', '2026-01-02', 'k', 'm', 'openai', '/chat/completions', 1, 1)`);
    expect((await call('/global/spend/all_tag_names')).body).toEqual({ tag_names: ['alpha', 'zeta'] });
    expect((await call('/global/spend/all_tag_names', undefined, keys.a1)).status).toBe(403);
  });
});

describe('GET /global/spend/tags', () => {
  it('sums spend and calls per tag in a range, all tags or the ones asked for', async () => {
    expect((await call(`/global/spend/tags?${RANGE}`)).body).toEqual({ spend_per_tag: [
      { name: 'batch', spend: 2, log_count: 1 }, { name: 'prod', spend: 1.5, log_count: 2 }, { name: 'team-a', spend: 1, log_count: 1 },
    ] });
    expect((await call(`/global/spend/tags?${RANGE}&tags=prod,batch`)).body).toEqual({ spend_per_tag: [{ name: 'batch', spend: 2, log_count: 1 }, { name: 'prod', spend: 1.5, log_count: 2 }] });
    expect((await call(`/global/spend/tags?${RANGE}&tags=all-tags`)).body.spend_per_tag).toHaveLength(3);
    expect((await call('/global/spend/tags?start_date=2026-01-01')).status).toBe(400);
    expect((await call(`/global/spend/tags?${RANGE}`, undefined, keys.a1)).status).toBe(403);
  });
});

describe('GET /global/activity/cache_hits', () => {
  it('counts the calls and completion tokens the cache answered, per key alias, call type and model', async () => {
    await query(stack.db.url, `UPDATE "LiteLLM_SpendLogs" SET cache_hit = true WHERE request_id = 'r4'`);
    try {
      const res = await call(`/global/activity/cache_hits?${RANGE}`);
      expect(res.status).toBe(200);
      const rows = [...res.body as Record<string, unknown>[]].sort((a, b) => String(a.api_key).localeCompare(String(b.api_key)));
      expect(rows).toEqual([
        { api_key: 'alpha-1', call_type: 'acompletion', model: 'gpt-4o', total_rows: 2, cache_hit_true_rows: 1, cached_completion_tokens: 50, generated_completion_tokens: 40 },
        { api_key: 'bravo', call_type: 'acompletion', model: 'gpt-4o', total_rows: 1, cache_hit_true_rows: 0, cached_completion_tokens: 0, generated_completion_tokens: 10 },
        { api_key: 'Unnamed Key', call_type: 'acompletion', model: 'gpt-4o-mini', total_rows: 2, cache_hit_true_rows: 0, cached_completion_tokens: 0, generated_completion_tokens: 25 },
      ]);
      // An internal user's key sees its own user's rows.
      expect((await call(`/global/activity/cache_hits?${RANGE}`, undefined, keys.a1)).body).toEqual([rows[0]]);
      expect((await call('/global/activity/cache_hits?start_date=2026-01-01')).status).toBe(400);
    } finally {
      await query(stack.db.url, `UPDATE "LiteLLM_SpendLogs" SET cache_hit = false WHERE request_id = 'r4'`);
    }
  });
});
