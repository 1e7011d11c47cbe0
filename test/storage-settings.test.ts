import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEND_CONFIG } from './support/admin.ts';
import { eventually, seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Settings that turn storage off. general_settings.disable_spend_logs: calls keep no LiteLLM_SpendLogs
// row, and their spend still reaches the key (and the daily rollups), through the gateway's Queue and the
// admin Worker's consumer. litellm_settings.store_audit_logs: false: admin changes leave no audit row.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: `${SPEND_CONFIG}general_settings:\n  disable_spend_logs: true\n  max_budget: 100\nlitellm_settings:\n  store_audit_logs: false\n` });
});
afterAll(() => stack?.stop());

describe('disable_spend_logs', () => {
  it('keeps no spend-log row, yet adds every call to the key and the daily rollups', async () => {
    const key = await seedKey(stack.db.url, {});
    const costs: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: `hello ${i}` }] }),
      });
      expect(res.status).toBe(200);
      costs.push(Number(res.headers.get('x-litellm-response-cost')));
      ids.push(res.headers.get('x-litellm-call-id') as string);
    }
    const total = costs.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    await eventually(async () => {
      const [row] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
      return Math.abs(Number(row?.spend) - total) < 1e-9 ? true : undefined;
    });
    const [daily] = await query(stack.db.url, 'SELECT sum(api_requests)::int AS n FROM "LiteLLM_DailyKeySpend" WHERE api_key = $1', [sha256(key)]);
    expect(daily?.n).toBe(3);
    const [rows] = await query(stack.db.url, 'SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"');
    expect(rows?.n).toBe(0);
    const [written] = await query(stack.db.url, 'SELECT count(*)::int AS n FROM "Tollgate_SpendLogIds" WHERE request_id = ANY($1)', [ids]);
    expect(written?.n).toBe(3);
    // The proxy-wide total (and the proxy-wide budget's limiter) read the daily rollups when there are no rows.
    const global = await fetch(`${stack.url}/global/spend`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const body = await global.json() as { spend: number; max_budget: number };
    expect(body.max_budget).toBe(100);
    expect(body.spend).toBeCloseTo(total, 9);
  });
});

describe('store_audit_logs: false', () => {
  it('writes no LiteLLM_AuditLog row for admin changes, which still apply', async () => {
    const res = await fetch(`${stack.url}/key/generate`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key_alias: 'unaudited', max_budget: 3 }),
    });
    expect(res.status).toBe(200);
    const { key } = await res.json() as { key: string };
    const [stored] = await query(stack.db.url, 'SELECT key_alias, max_budget FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
    expect(stored).toEqual({ key_alias: 'unaudited', max_budget: 3 });
    const [audit] = await query(stack.db.url, 'SELECT count(*)::int AS n FROM "LiteLLM_AuditLog"');
    expect(audit?.n).toBe(0);
  });
});
