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
