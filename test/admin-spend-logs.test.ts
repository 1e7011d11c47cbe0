import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEND_CONFIG, adminClient, seedSpend, type Json, type SpendKeyName, type SpendKeys } from './support/admin.ts';
import { eventually, sha256 } from './support/keys.ts';
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
const ids = (rows: Json) => rows.map((r: Json) => r.request_id);

describe('GET /spend/logs', () => {
  it('finds one request by request_id, as a list of one row', async () => {
    const res = await get('/spend/logs?request_id=r3');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([expect.objectContaining({ request_id: 'r3', api_key: hash('b'), spend: 0.25, total_tokens: 20, team_id: 'team-b', user: 'u3', startTime: '2026-01-01T12:00:00.000Z' })]);
  });

  it('filters by key (plain or hash), user and date range, newest first', async () => {
    expect(ids((await get(`/spend/logs?api_key=${keys.a1}`)).body)).toEqual(['r4', 'r1', 'r7']);
    expect(ids((await get(`/spend/logs?api_key=${hash('a1')}`)).body)).toEqual(['r4', 'r1', 'r7']);
    expect(ids((await get('/spend/logs?user_id=u3')).body)).toEqual(['r6', 'r3']);
    expect(ids((await get(`/spend/logs?${RANGE}&summarize=false`)).body)).toEqual(['r5', 'r4', 'r2', 'r3', 'r1']);
    expect(ids((await get(`/spend/logs?${RANGE}&summarize=false&api_key=${keys.a1}`)).body)).toEqual(['r4', 'r1']);
    expect(ids((await get('/spend/logs?limit=2')).body)).toEqual(['r6', 'r5']);
  });

  it('summarizes per day with both dates, as LiteLLM does by default', async () => {
    const res = await get(`/spend/logs?${RANGE}`);
    expect(res.body).toEqual([
      { startTime: '2026-01-01', spend: 1.75, users: { u1: 1, u2: 0.5, u3: 0.25 }, models: { 'gpt-4o': 1.25, 'gpt-4o-mini': 0.5 }, [hash('a1')]: 1, [hash('a2')]: 0.5, [hash('b')]: 0.25 },
      { startTime: '2026-01-02', spend: 2.125, users: { u1: 2, u4: 0.125 }, models: { 'gpt-4o': 2, 'gpt-4o-mini': 0.125 }, [hash('a1')]: 2, [hash('none')]: 0.125 },
    ]);
  });

  it('shows a virtual key its own rows only', async () => {
    expect(ids((await get('/spend/logs', keys.b)).body)).toEqual(['r6', 'r3']);
    expect((await get('/spend/logs?request_id=r1', keys.b)).body).toEqual([]);
    expect((await get(`/spend/logs?api_key=${keys.b}`, keys.b)).status).toBe(200);
    expect((await get(`/spend/logs?api_key=${keys.a1}`, keys.b)).status).toBe(403);
  });

  it('refuses malformed dates with 422 and backwards ranges with 400', async () => {
    const bad = await get('/spend/logs?start_date=01/01/2026&end_date=2026-01-02');
    expect(bad.status).toBe(422);
    expect(bad.body.error.param).toBe('start_date');
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
      return found.body.length ? found.body : undefined;
    });
    expect(rows).toEqual([expect.objectContaining({ request_id: callId, api_key: hash('a2'), team_id: 'team-a', model_group: 'mock-gpt', spend: cost })]);
    await query(stack.db.url, 'DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [callId]);
  });
});

describe('GET /spend/logs/ui', () => {
  const ui = (params: string, key?: string) => get(`/spend/logs/ui?start_date=2026-01-01%2000:00:00&end_date=2026-01-02%2023:59:59${params}`, key);

  it('pages through the rows of a time range, newest first, with the totals LiteLLM\'s UI reads', async () => {
    const first = await ui('&page_size=2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ total: 5, page: 1, page_size: 2, total_pages: 3 });
    expect(ids(first.body.data)).toEqual(['r5', 'r4']);
    expect(first.body.data[0]).toMatchObject({ request_id: 'r5', api_key: hash('none'), spend: 0.125, user: 'u4' });
    expect(ids((await ui('&page_size=2&page=2')).body.data)).toEqual(['r2', 'r3']);
    expect(ids((await ui('&page_size=2&page=3')).body.data)).toEqual(['r1']);
    expect((await ui('&page=4')).body).toMatchObject({ data: [], total: 5, total_pages: 1 });
    expect(ids((await get('/spend/logs/ui?start_date=2026-01-01%2010:00:01&end_date=2026-01-02%2000:00:00')).body.data)).toEqual(['r4', 'r2', 'r3']);
  });

  it('filters by team, key, user, request and spend', async () => {
    expect(ids((await ui('&team_id=team-a')).body.data)).toEqual(['r4', 'r2', 'r1']);
    expect(ids((await ui(`&api_key=${keys.a1}`)).body.data)).toEqual(['r4', 'r1']);
    expect(ids((await ui('&user_id=u3')).body.data)).toEqual(['r3']);
    expect(ids((await ui('&request_id=r2')).body.data)).toEqual(['r2']);
    expect(ids((await ui('&min_spend=0.5')).body.data)).toEqual(['r4', 'r2', 'r1']);
    expect(ids((await ui('&max_spend=0.25')).body.data)).toEqual(['r5', 'r3']);
  });

  it("shows an internal user's key its user's rows only", async () => {
    const own = await ui('', keys.b);
    expect(own.body).toMatchObject({ total: 1 });
    expect(ids(own.body.data)).toEqual(['r3']);
    expect((await ui('&user_id=u1', keys.b)).status).toBe(403);
    expect((await ui('', keys.viewer)).body.total).toBe(5);
  });

  it('requires both dates (400) and refuses malformed ones and page sizes (422)', async () => {
    const missing = await get('/spend/logs/ui?start_date=2026-01-01%2000:00:00');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toBe('Start date and end date are required');
    expect((await get('/spend/logs/ui?start_date=01/01/2026&end_date=2026-01-02')).body.error.param).toBe('start_date');
    // A day is taken whole.
    expect(ids((await get('/spend/logs/ui?start_date=2026-01-02&end_date=2026-01-02')).body.data)).toEqual(['r5', 'r4']);
    expect((await get('/spend/logs/ui?start_date=2026-02-30%2000:00:00&end_date=2026-03-01%2000:00:00')).status).toBe(422);
    expect((await ui('&page_size=101')).status).toBe(422);
    expect((await ui('&page=0')).status).toBe(422);
    expect((await ui('&min_spend=cheap')).status).toBe(422);
  });
});

describe('GET /spend/logs/v2', () => {
  it('pages rows as /spend/logs/ui does, filtered by status, model, key alias, end user, session and error', async () => {
    const rows = [
      ['v2-ok', 'success', 'gpt-4o', 'bench-gpt', 'dep-1', { user_api_key_alias: 'v2-alias' }, 'cust-1', 'sess-1', '2026-03-01T10:00:00Z'],
      ['v2-429', 'failure', 'gpt-4o', 'bench-gpt', 'dep-1', { user_api_key_alias: 'v2-alias', error_information: { error_code: '429', error_message: 'Rate limit exceeded for key: x' } }, null, 'sess-1', '2026-03-01T11:00:00Z'],
      ['v2-500', 'failure', 'claude', 'other-group', 'dep-2', { error_information: { error_code: '500', error_message: 'Upstream 100% broken' } }, null, null, '2026-03-02T09:00:00Z'],
    ] as const;
    for (const [id, status, model, group, modelId, metadata, endUser, session, at] of rows) {
      await query(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, "startTime", "endTime", model, model_group, model_id, status, metadata, end_user, session_id)
        VALUES ($1, 'acompletion', 'v2-key-hash', 0.01, $2, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)`, [id, at, model, group, modelId, status, JSON.stringify(metadata), endUser, session]);
    }
    const v2 = async (params: string) => {
      const res = await get(`/spend/logs/v2?start_date=2026-03-01&end_date=2026-03-02${params}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    expect(await v2('&page_size=2')).toMatchObject({ total: 3, page: 1, page_size: 2, total_pages: 2 });
    expect(ids((await v2('')).data)).toEqual(['v2-500', 'v2-429', 'v2-ok']);
    expect(ids((await v2('&status_filter=failure')).data)).toEqual(['v2-500', 'v2-429']);
    expect(ids((await v2('&model=bench-gpt')).data)).toEqual(['v2-429', 'v2-ok']);
    expect(ids((await v2('&model=claude')).data)).toEqual(['v2-500']);
    expect(ids((await v2('&model_id=dep-2')).data)).toEqual(['v2-500']);
    expect(ids((await v2('&key_alias=v2-alias')).data)).toEqual(['v2-429', 'v2-ok']);
    expect(ids((await v2('&end_user=cust-1')).data)).toEqual(['v2-ok']);
    expect(ids((await v2('&session_id=sess-1')).data)).toEqual(['v2-429', 'v2-ok']);
    expect(ids((await v2('&error_code=429')).data)).toEqual(['v2-429']);
    // Any part of the message, any case; `%` is a percent sign.
    expect(ids((await v2('&error_message=RATE%20LIMIT')).data)).toEqual(['v2-429']);
    expect(ids((await v2('&error_message=100%25')).data)).toEqual(['v2-500']);
    expect(ids((await v2('&exclude_internal_health_checks=true')).data)).toHaveLength(3);
    // Date-times as the UI sends them; the end day alone is taken whole.
    expect(ids((await get('/spend/logs/v2?start_date=2026-03-01%2010:30:00&end_date=2026-03-01')).body.data)).toEqual(['v2-429']);
    expect((await get('/spend/logs/v2?start_date=2026-03-01&end_date=2026-03-02&status_filter=pending')).status).toBe(422);
    expect((await get('/spend/logs/v2?start_date=2026-03-01')).status).toBe(400);
    // An internal user's key sees its own user's rows only.
    expect((await get('/spend/logs/v2?start_date=2026-03-01&end_date=2026-03-02', keys.b)).body.total).toBe(0);
    // A session's rows, in the order they were made, without dates.
    const sessionPage = await get('/spend/logs/session/ui?session_id=sess-1&page_size=1&page=2');
    expect(sessionPage.body).toMatchObject({ total: 2, page: 2, page_size: 1, total_pages: 2 });
    expect(ids(sessionPage.body.data)).toEqual(['v2-429']);
    expect(ids((await get('/spend/logs/session/ui?session_id=sess-1')).body.data)).toEqual(['v2-ok', 'v2-429']);
    for (const path of ['/spend/logs/session/ui', '/spend/logs/session/ui?session_id=']) expect((await get(path)).status, path).toBe(400);
    expect((await get('/spend/logs/session/ui?session_id=sess-1', keys.b)).body.total).toBe(0);
    await query(stack.db.url, `DELETE FROM "LiteLLM_SpendLogs" WHERE api_key = 'v2-key-hash'`);
  });
});
