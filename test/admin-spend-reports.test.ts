import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsHtml } from '../admin-worker/routes/docs.ts';
import { SPEND_CONFIG, adminClient, insertSpendRow, seedSpend, type SpendKeyName, type SpendKeys } from './support/admin.ts';
import { sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Seeded rows: test/support/admin.ts SPEND_ROWS.
let stack: TestStack;
let keys: SpendKeys;
const hash = (name: SpendKeyName) => sha256(keys[name]);
const { call } = adminClient(() => stack);
const get = (path: string, key?: string) => call(path, undefined, key);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: SPEND_CONFIG });
  keys = await seedSpend(stack.db.url);
});
afterAll(() => stack?.stop());

const RANGE = 'start_date=2026-01-01&end_date=2026-01-02';

describe('GET /global/spend/report', () => {
  const report = (groupBy?: string) => get(`/global/spend/report?${RANGE}${groupBy ? `&group_by=${groupBy}` : ''}`);

  it('sums per day and team (the default), with model and key detail', async () => {
    const res = await report();
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { group_by_day: '2026-01-01', teams: [
        { team_id: 'team-a', team_name: 'Alpha', total_spend: 1.5, metadata: [
          { model: 'gpt-4o', api_key: hash('a1'), spend: 1, total_tokens: 100 },
          { model: 'gpt-4o-mini', api_key: hash('a2'), spend: 0.5, total_tokens: 50 },
        ] },
        { team_id: 'team-b', team_name: 'Bravo', total_spend: 0.25, metadata: [{ model: 'gpt-4o', api_key: hash('b'), spend: 0.25, total_tokens: 20 }] },
      ] },
      { group_by_day: '2026-01-02', teams: [
        { team_id: 'team-a', team_name: 'Alpha', total_spend: 2, metadata: [{ model: 'gpt-4o', api_key: hash('a1'), spend: 2, total_tokens: 200 }] },
        { team_id: null, team_name: 'Unassigned Team', total_spend: 0.125, metadata: [{ model: 'gpt-4o-mini', api_key: hash('none'), spend: 0.125, total_tokens: 10 }] },
      ] },
    ]);
  });

  it('sums per day and key, model, customer, day; and per key over the range (api_key)', async () => {
    const keyReport = (await report('key')).body;
    expect(keyReport.map((d: { group_by_day: string; api_keys: unknown[] }) => [d.group_by_day, d.api_keys.length])).toEqual([['2026-01-01', 3], ['2026-01-02', 2]]);
    const byKey = new Map(keyReport[0].api_keys.map((k: { api_key: string }) => [k.api_key, k]));
    expect(byKey.get(hash('a1'))).toEqual({ api_key: hash('a1'), key_alias: 'alpha-1', key_name: `sk-...${keys.a1.slice(-4)}`, total_spend: 1, metadata: [{ model: 'gpt-4o', spend: 1, total_tokens: 100 }] });

    expect((await report('model')).body).toEqual([
      { group_by_day: '2026-01-01', models: [
        { model: 'gpt-4o', total_spend: 1.25, metadata: expect.arrayContaining([{ api_key: hash('a1'), spend: 1, total_tokens: 100 }, { api_key: hash('b'), spend: 0.25, total_tokens: 20 }]) },
        { model: 'gpt-4o-mini', total_spend: 0.5, metadata: [{ api_key: hash('a2'), spend: 0.5, total_tokens: 50 }] },
      ] },
      { group_by_day: '2026-01-02', models: [
        { model: 'gpt-4o', total_spend: 2, metadata: [{ api_key: hash('a1'), spend: 2, total_tokens: 200 }] },
        { model: 'gpt-4o-mini', total_spend: 0.125, metadata: [{ api_key: hash('none'), spend: 0.125, total_tokens: 10 }] },
      ] },
    ]);
    expect((await report('day')).body).toEqual([
      { group_by_day: '2026-01-01', total_spend: 1.75, total_tokens: 170, api_requests: 3 },
      { group_by_day: '2026-01-02', total_spend: 2.125, total_tokens: 210, api_requests: 2 },
    ]);
    const customers = (await report('customer')).body;
    expect(customers[0].customers.map((c: { customer: string | null; total_spend: number }) => [c.customer, c.total_spend])).toEqual([['c1', 1], ['c2', 0.5], [null, 0.25]]);
    const apiKeys = (await report('api_key')).body;
    expect(apiKeys.map((k: { api_key: string; total_cost: number }) => [k.api_key, k.total_cost])).toEqual([[hash('a1'), 3], [hash('a2'), 0.5], [hash('b'), 0.25], [hash('none'), 0.125]]);
    expect(apiKeys[0]).toEqual({ api_key: hash('a1'), total_cost: 3, total_input_tokens: 210, total_output_tokens: 90, model_details: [{ model: 'gpt-4o', total_cost: 3, total_input_tokens: 210, total_output_tokens: 90 }] });
  });

  it('includes the whole end day, and filters by key, user, team and customer', async () => {
    const day = await get('/global/spend/report?start_date=2026-01-01&end_date=2026-01-01&group_by=day');
    expect(day.body).toEqual([{ group_by_day: '2026-01-01', total_spend: 1.75, total_tokens: 170, api_requests: 3 }]);
    const total = async (filter: string) => (await get(`/global/spend/report?${RANGE}&group_by=day&${filter}`)).body.reduce((s: number, d: { total_spend: number }) => s + d.total_spend, 0);
    expect(await total(`api_key=${keys.a1}`)).toBe(3);
    expect(await total('internal_user_id=u2')).toBe(0.5);
    expect(await total('team_id=team-b')).toBe(0.25);
    expect(await total('customer_id=c1')).toBe(3);
  });

  it('needs both dates (400) and a proxy admin or admin viewer (403)', async () => {
    const missing = await get('/global/spend/report?start_date=2026-01-01');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toBe('Please provide start_date and end_date');
    expect((await get(`/global/spend/report?${RANGE}`, keys.a1)).status).toBe(403);
    expect((await get(`/global/spend/report?${RANGE}&group_by=week`)).status).toBe(422);
    expect((await get(`/global/spend/report?${RANGE}`, keys.viewer)).status).toBe(200);
  });
});

describe('GET /global/spend/teams and /global/spend/keys', () => {
  it('gives daily spend per team over a range', async () => {
    const res = await get('/global/spend/teams?start_date=2026-01-01&end_date=2026-01-03');
    expect(res.body).toEqual({
      daily_spend: [
        { date: '2026-01-01', Alpha: 1.5, Bravo: 0.25 },
        { date: '2026-01-02', Alpha: 2, Unassigned: 0.125 },
        { date: '2026-01-03', Bravo: 4 },
      ],
      teams: ['Alpha', 'Bravo', 'Unassigned'],
      total_spend_per_team: [{ team_id: 'Bravo', total_spend: 4.25 }, { team_id: 'Alpha', total_spend: 3.5 }, { team_id: 'Unassigned', total_spend: 0.125 }],
    });
  });

  it('gives the top keys by spend, with alias and abbreviated name', async () => {
    const res = await get('/global/spend/keys?start_date=2025-12-01&end_date=2026-01-31&limit=2');
    expect(res.body).toEqual([
      { api_key: hash('a1'), total_spend: 11, key_alias: 'alpha-1', key_name: `sk-...${keys.a1.slice(-4)}` },
      { api_key: hash('b'), total_spend: 4.25, key_alias: 'bravo', key_name: `sk-...${keys.b.slice(-4)}` },
    ]);
    expect((await get('/global/spend/keys?limit=0')).status).toBe(422);
  });

  it('cover the last 30 days by default', async () => {
    const now = new Date().toISOString();
    await insertSpendRow(stack.db.url, keys, { id: 'recent', key: 'none', team: 'team-b', model: 'gpt-4o', spend: 16, prompt: 1, completion: 1, at: now, user: 'u4' });
    try {
      expect((await get('/global/spend/keys')).body).toEqual([{ api_key: hash('none'), total_spend: 16, key_alias: null, key_name: `sk-...${keys.none.slice(-4)}` }]);
      expect((await get('/global/spend/teams')).body).toEqual({
        daily_spend: [{ date: now.slice(0, 10), Bravo: 16 }], teams: ['Bravo'], total_spend_per_team: [{ team_id: 'Bravo', total_spend: 16 }],
      });
    } finally {
      await query(stack.db.url, 'DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = $1', ['recent']);
    }
  });

  it('are for proxy admins and admin viewers only', async () => {
    expect((await get('/global/spend/teams', keys.b)).status).toBe(403);
    expect((await get('/global/spend/keys', keys.b)).status).toBe(403);
    expect((await get('/global/spend/keys', keys.viewer)).status).toBe(200);
  });
});

describe('GET /spend/keys, /spend/users and /spend/tags', () => {
  it('list keys and users with their spend for admins, a key\'s own user for it, and spend per request tag', async () => {
    const allKeys = await get('/spend/keys');
    expect(allKeys.status).toBe(200);
    const tokens = (allKeys.body as unknown as { token: string }[]).map((k) => k.token);
    for (const name of ['a1', 'a2', 'b', 'none'] as const) expect(tokens).toContain(hash(name));
    for (const plain of Object.values(keys)) expect(JSON.stringify(allKeys.body)).not.toContain(plain);
    expect((await get('/spend/keys', keys.viewer)).status).toBe(200);
    expect((await get('/spend/keys', keys.a1)).status).toBe(403);

    const users = await get('/spend/users');
    expect((users.body as unknown as { user_id: string }[]).map((u) => u.user_id)).toContain('viewer-user');
    await query(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, spend) VALUES ('u1', 3), ('u2', 0.5) ON CONFLICT DO NOTHING`);
    const own = await get('/spend/users', keys.a1);
    expect(own.status).toBe(200);
    expect(own.body).toEqual([expect.objectContaining({ user_id: 'u1', spend: 3 })]);
    expect((await get('/spend/users?user_id=u2', keys.a1)).status).toBe(403);

    await query(stack.db.url, `UPDATE "LiteLLM_SpendLogs" SET request_tags = CASE request_id
      WHEN 'r1' THEN '["prod", "chat"]'::jsonb WHEN 'r2' THEN '["prod"]'::jsonb WHEN 'r4' THEN '["prod"]'::jsonb WHEN 'r6' THEN '["batch"]'::jsonb ELSE '[]'::jsonb END`);
    const inRange = await get(`/spend/tags?${RANGE}`);
    expect(inRange.body).toEqual([
      { individual_request_tag: 'prod', log_count: 3, total_spend: 3.5 },
      { individual_request_tag: 'chat', log_count: 1, total_spend: 1 },
    ]);
    const all = await get('/spend/tags');
    expect((all.body as unknown as { individual_request_tag: string }[]).map((t) => t.individual_request_tag)).toEqual(['batch', 'prod', 'chat']);
    await query(stack.db.url, `UPDATE "LiteLLM_SpendLogs" SET request_tags = '[]'::jsonb`);
  });

  it('/global/spend sums every call and /global/spend/models ranks the models, for admins only', async () => {
    const [{ total, mini }] = await query<{ total: number; mini: number }>(stack.db.url,
      `SELECT SUM(spend)::float8 AS total, (SUM(spend) FILTER (WHERE model = 'gpt-4o-mini'))::float8 AS mini FROM "LiteLLM_SpendLogs"`) as [{ total: number; mini: number }];
    expect(await get('/global/spend')).toMatchObject({ status: 200, body: { spend: total, max_budget: null } });
    const models = await get('/global/spend/models');
    expect(models.body).toEqual([{ model: 'gpt-4o', total_spend: total - mini }, { model: 'gpt-4o-mini', total_spend: mini }]);
    expect((await get('/global/spend/models?limit=1')).body).toHaveLength(1);
    expect((await get('/global/spend', keys.a1)).status).toBe(403);
    expect((await get('/global/spend/models', keys.viewer)).status).toBe(200);
  });
});

describe('GET /docs', () => {
  it('renders /openapi.json as a self-contained /docs page: path, method, summary, body schema', async () => {
    const doc = await (await fetch(`${stack.url}/openapi.json`)).json() as Record<string, unknown>;
    const html = docsHtml(doc);
    expect(html).toMatch(/^<!doctype html>/);
    for (const part of ['<span class="m post">POST</span> <code>/model/new</code>', '<span class="m patch">PATCH</span> <code>/model/{model_id}/update</code>',
      '<code>/global/spend/report</code>', '&#34;model_name&#34;', '<code>group_by</code>']) expect(html).toContain(part);
    // Offline: nothing is loaded from elsewhere.
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(|@import/);
  });
});
