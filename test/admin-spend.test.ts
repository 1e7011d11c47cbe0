import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsHtml } from '../admin-worker/routes/docs.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;
const keys: Record<'a1' | 'a2' | 'b' | 'none' | 'viewer', string> = { a1: '', a2: '', b: '', none: '', viewer: '' };
const hash = (name: keyof typeof keys) => sha256(keys[name]);

interface Row {
  id: string;
  key: keyof typeof keys;
  team: string | null;
  model: string;
  spend: number;
  prompt: number;
  completion: number;
  at: string;
  user: string;
  endUser?: string;
}

// Spend values are exact in binary, so sums compare with toEqual. r6 and r7 fall outside 2026-01-01..02.
const ROWS: Row[] = [
  { id: 'r1', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 1, prompt: 60, completion: 40, at: '2026-01-01T10:00:00Z', user: 'u1', endUser: 'c1' },
  { id: 'r2', key: 'a2', team: 'team-a', model: 'gpt-4o-mini', spend: 0.5, prompt: 30, completion: 20, at: '2026-01-01T23:59:59.999Z', user: 'u2', endUser: 'c2' },
  { id: 'r3', key: 'b', team: 'team-b', model: 'gpt-4o', spend: 0.25, prompt: 10, completion: 10, at: '2026-01-01T12:00:00Z', user: 'u3' },
  { id: 'r4', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 2, prompt: 150, completion: 50, at: '2026-01-02T00:00:00Z', user: 'u1', endUser: 'c1' },
  { id: 'r5', key: 'none', team: null, model: 'gpt-4o-mini', spend: 0.125, prompt: 5, completion: 5, at: '2026-01-02T08:00:00Z', user: 'u4' },
  { id: 'r6', key: 'b', team: 'team-b', model: 'gpt-4o', spend: 4, prompt: 300, completion: 100, at: '2026-01-03T09:00:00Z', user: 'u3' },
  { id: 'r7', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 8, prompt: 1, completion: 1, at: '2025-12-31T23:59:59.999Z', user: 'u1', endUser: 'c1' },
];

async function insertRow(r: Row): Promise<void> {
  await query(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs"
      (request_id, call_type, api_key, spend, prompt_tokens, completion_tokens, total_tokens, "startTime", "endTime", model, model_group, team_id, "user", end_user)
      VALUES ($1, 'acompletion', $2, $3, $4, $5, $6, $7, $7, $8, $8, $9, $10, $11)`,
  [r.id, hash(r.key), r.spend, r.prompt, r.completion, r.prompt + r.completion, r.at, r.model, r.team, r.user, r.endUser ?? null]);
}

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.5, output_cost_per_token: 0.25}
`,
  });
  await seedTeam(stack.db.url, { id: 'team-a', alias: 'Alpha' });
  await seedTeam(stack.db.url, { id: 'team-b', alias: 'Bravo' });
  await query(stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ($1, $2)', ['viewer-user', 'proxy_admin_viewer']);
  keys.a1 = await seedKey(stack.db.url, { teamId: 'team-a', alias: 'alpha-1', userId: 'u1' });
  keys.a2 = await seedKey(stack.db.url, { teamId: 'team-a', userId: 'u2' });
  keys.b = await seedKey(stack.db.url, { teamId: 'team-b', alias: 'bravo', userId: 'u3' });
  keys.none = await seedKey(stack.db.url, { userId: 'u4' });
  keys.viewer = await seedKey(stack.db.url, { userId: 'viewer-user' });
  for (const r of ROWS) await insertRow(r);
});
afterAll(() => stack?.stop());

async function get(path: string, key = TEST_MASTER_KEY) {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, json: await res.json() as any };
}

const RANGE = 'start_date=2026-01-01&end_date=2026-01-02';
const ids = (rows: { request_id: string }[]) => rows.map((r) => r.request_id);

describe('GET /spend/logs', () => {
  it('finds one request by request_id, as a list of one row', async () => {
    const res = await get('/spend/logs?request_id=r3');
    expect(res.status).toBe(200);
    expect(res.json).toEqual([expect.objectContaining({ request_id: 'r3', api_key: hash('b'), spend: 0.25, total_tokens: 20, team_id: 'team-b', user: 'u3', startTime: '2026-01-01T12:00:00.000Z' })]);
  });

  it('filters by key (plain or hash), user and date range, newest first', async () => {
    expect(ids((await get(`/spend/logs?api_key=${keys.a1}`)).json)).toEqual(['r4', 'r1', 'r7']);
    expect(ids((await get(`/spend/logs?api_key=${hash('a1')}`)).json)).toEqual(['r4', 'r1', 'r7']);
    expect(ids((await get('/spend/logs?user_id=u3')).json)).toEqual(['r6', 'r3']);
    expect(ids((await get(`/spend/logs?${RANGE}&summarize=false`)).json)).toEqual(['r5', 'r4', 'r2', 'r3', 'r1']);
    expect(ids((await get(`/spend/logs?${RANGE}&summarize=false&api_key=${keys.a1}`)).json)).toEqual(['r4', 'r1']);
    expect(ids((await get('/spend/logs?limit=2')).json)).toEqual(['r6', 'r5']);
  });

  it('summarizes per day with both dates, as LiteLLM does by default', async () => {
    const res = await get(`/spend/logs?${RANGE}`);
    expect(res.json).toEqual([
      { startTime: '2026-01-01', spend: 1.75, users: { u1: 1, u2: 0.5, u3: 0.25 }, models: { 'gpt-4o': 1.25, 'gpt-4o-mini': 0.5 }, [hash('a1')]: 1, [hash('a2')]: 0.5, [hash('b')]: 0.25 },
      { startTime: '2026-01-02', spend: 2.125, users: { u1: 2, u4: 0.125 }, models: { 'gpt-4o': 2, 'gpt-4o-mini': 0.125 }, [hash('a1')]: 2, [hash('none')]: 0.125 },
    ]);
  });

  it('shows a virtual key its own rows only', async () => {
    expect(ids((await get('/spend/logs', keys.b)).json)).toEqual(['r6', 'r3']);
    expect((await get('/spend/logs?request_id=r1', keys.b)).json).toEqual([]);
    expect((await get(`/spend/logs?api_key=${keys.b}`, keys.b)).status).toBe(200);
    expect((await get(`/spend/logs?api_key=${keys.a1}`, keys.b)).status).toBe(403);
  });

  it('refuses malformed dates with 422 and backwards ranges with 400', async () => {
    const bad = await get('/spend/logs?start_date=01/01/2026&end_date=2026-01-02');
    expect(bad.status).toBe(422);
    expect(bad.json.error.param).toBe('start_date');
    expect((await get('/spend/logs?start_date=2026-02-30&end_date=2026-03-01')).status).toBe(422);
    expect((await get('/spend/logs?start_date=2026-01-02&end_date=2026-01-01')).status).toBe(400);
  });

  it('has the row of a call made through the gateway once the queue consumer wrote it', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.a2}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const callId = res.headers.get('x-litellm-call-id') as string;
    const cost = Number(res.headers.get('x-litellm-response-cost'));
    const rows = await eventually(async () => {
      const found = await get(`/spend/logs?request_id=${callId}`, keys.a2);
      return found.json.length ? found.json : undefined;
    });
    expect(rows).toEqual([expect.objectContaining({ request_id: callId, api_key: hash('a2'), team_id: 'team-a', model_group: 'mock-gpt', spend: cost })]);
    await query(stack.db.url, 'DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [callId]);
  });
});

describe('GET /global/spend/report', () => {
  const report = (groupBy?: string) => get(`/global/spend/report?${RANGE}${groupBy ? `&group_by=${groupBy}` : ''}`);

  it('sums per day and team (the default), with model and key detail', async () => {
    const res = await report();
    expect(res.status).toBe(200);
    expect(res.json).toEqual([
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
    const keyReport = (await report('key')).json;
    expect(keyReport.map((d: { group_by_day: string; api_keys: unknown[] }) => [d.group_by_day, d.api_keys.length])).toEqual([['2026-01-01', 3], ['2026-01-02', 2]]);
    const byKey = new Map(keyReport[0].api_keys.map((k: { api_key: string }) => [k.api_key, k]));
    expect(byKey.get(hash('a1'))).toEqual({ api_key: hash('a1'), key_alias: 'alpha-1', key_name: `sk-...${keys.a1.slice(-4)}`, total_spend: 1, metadata: [{ model: 'gpt-4o', spend: 1, total_tokens: 100 }] });

    expect((await report('model')).json).toEqual([
      { group_by_day: '2026-01-01', models: [
        { model: 'gpt-4o', total_spend: 1.25, metadata: expect.arrayContaining([{ api_key: hash('a1'), spend: 1, total_tokens: 100 }, { api_key: hash('b'), spend: 0.25, total_tokens: 20 }]) },
        { model: 'gpt-4o-mini', total_spend: 0.5, metadata: [{ api_key: hash('a2'), spend: 0.5, total_tokens: 50 }] },
      ] },
      { group_by_day: '2026-01-02', models: [
        { model: 'gpt-4o', total_spend: 2, metadata: [{ api_key: hash('a1'), spend: 2, total_tokens: 200 }] },
        { model: 'gpt-4o-mini', total_spend: 0.125, metadata: [{ api_key: hash('none'), spend: 0.125, total_tokens: 10 }] },
      ] },
    ]);
    expect((await report('day')).json).toEqual([
      { group_by_day: '2026-01-01', total_spend: 1.75, total_tokens: 170, api_requests: 3 },
      { group_by_day: '2026-01-02', total_spend: 2.125, total_tokens: 210, api_requests: 2 },
    ]);
    const customers = (await report('customer')).json;
    expect(customers[0].customers.map((c: { customer: string | null; total_spend: number }) => [c.customer, c.total_spend])).toEqual([['c1', 1], ['c2', 0.5], [null, 0.25]]);
    const apiKeys = (await report('api_key')).json;
    expect(apiKeys.map((k: { api_key: string; total_cost: number }) => [k.api_key, k.total_cost])).toEqual([[hash('a1'), 3], [hash('a2'), 0.5], [hash('b'), 0.25], [hash('none'), 0.125]]);
    expect(apiKeys[0]).toEqual({ api_key: hash('a1'), total_cost: 3, total_input_tokens: 210, total_output_tokens: 90, model_details: [{ model: 'gpt-4o', total_cost: 3, total_input_tokens: 210, total_output_tokens: 90 }] });
  });

  it('includes the whole end day, and filters by key, user, team and customer', async () => {
    const day = await get('/global/spend/report?start_date=2026-01-01&end_date=2026-01-01&group_by=day');
    expect(day.json).toEqual([{ group_by_day: '2026-01-01', total_spend: 1.75, total_tokens: 170, api_requests: 3 }]);
    const total = async (filter: string) => (await get(`/global/spend/report?${RANGE}&group_by=day&${filter}`)).json.reduce((s: number, d: { total_spend: number }) => s + d.total_spend, 0);
    expect(await total(`api_key=${keys.a1}`)).toBe(3);
    expect(await total('internal_user_id=u2')).toBe(0.5);
    expect(await total('team_id=team-b')).toBe(0.25);
    expect(await total('customer_id=c1')).toBe(3);
  });

  it('needs both dates (400) and a proxy admin or admin viewer (403)', async () => {
    const missing = await get('/global/spend/report?start_date=2026-01-01');
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toBe('Please provide start_date and end_date');
    expect((await get(`/global/spend/report?${RANGE}`, keys.a1)).status).toBe(403);
    expect((await get(`/global/spend/report?${RANGE}&group_by=week`)).status).toBe(422);
    expect((await get(`/global/spend/report?${RANGE}`, keys.viewer)).status).toBe(200);
  });
});

describe('GET /global/spend/teams and /global/spend/keys', () => {
  it('gives daily spend per team over a range', async () => {
    const res = await get('/global/spend/teams?start_date=2026-01-01&end_date=2026-01-03');
    expect(res.json).toEqual({
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
    expect(res.json).toEqual([
      { api_key: hash('a1'), total_spend: 11, key_alias: 'alpha-1', key_name: `sk-...${keys.a1.slice(-4)}` },
      { api_key: hash('b'), total_spend: 4.25, key_alias: 'bravo', key_name: `sk-...${keys.b.slice(-4)}` },
    ]);
    expect((await get('/global/spend/keys?limit=0')).status).toBe(422);
  });

  it('cover the last 30 days by default', async () => {
    const now = new Date().toISOString();
    await insertRow({ id: 'recent', key: 'none', team: 'team-b', model: 'gpt-4o', spend: 16, prompt: 1, completion: 1, at: now, user: 'u4' });
    try {
      expect((await get('/global/spend/keys')).json).toEqual([{ api_key: hash('none'), total_spend: 16, key_alias: null, key_name: `sk-...${keys.none.slice(-4)}` }]);
      expect((await get('/global/spend/teams')).json).toEqual({
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
