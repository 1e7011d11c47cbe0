import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWindowSpend } from '../worker/limits/budget-limits.ts';
import { missingPolicy } from '../worker/limits/policy.ts';
import { eventually, sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { adminClient, type Json } from './support/admin.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's `budget_limits`: several budgets over windows of their own, on
 * keys and teams, set through the admin API and spent through real calls.
 * Every call costs exactly 0.5 (prompt "hi" and answer "ok", one token each
 * at 0.25), and budgets are whole multiples of it (see limits-entities.test.ts).
 */

const PRICE = 'input_cost_per_token: 0.25, output_cost_per_token: 0.25';
const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", ${PRICE}}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

interface Outcome { status: number; error?: { message: string; type: string }; retryAfter?: string | null }

let stack: TestStack;
const { ok: admin } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
});
afterAll(async () => stack?.stop());

async function chat(key: string): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }).withResponse();
    return { status: response.status };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return { status: err.status, error: err.error as Outcome['error'], retryAfter: err.headers?.get('retry-after') };
    throw err;
  }
}

/** Waits until the spend logs hold `spend` under the key's hash (refused calls have rows too, at 0). */
async function loggedSpend(key: string, spend: number): Promise<void> {
  await eventually(async () => {
    const [row] = await query<{ spend: string }>(stack.db.url, 'SELECT COALESCE(SUM(spend), 0)::text AS spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(key)]);
    return Number(row?.spend) === spend ? true : undefined;
  });
}

/** The refusal once the last admitted call's settlement has reached the limiter (its "Current cost" can lag). */
async function settledRefusal(key: string, message: string): Promise<Outcome> {
  return eventually(async () => {
    const out = await chat(key);
    expect(out.status).toBe(429);
    expect(out.error?.type).toBe('budget_exceeded');
    return out.error?.message === message ? out : undefined;
  }, 10_000);
}

describe('budget_limits', () => {
  it('refuse a key once any of its windows is spent, naming the window, while its other windows and max_budget have room', async () => {
    const { key } = await admin('/key/generate', {
      key_alias: 'windowed', max_budget: 100, budget_limits: [{ budget_duration: '30d', max_budget: 100 }, { budget_duration: '24h', max_budget: 1 }],
    });
    expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(200);
    const refused = await settledRefusal(key, 'Budget has been exceeded! Key over 24h budget: Key=windowed Current cost: 1, Max budget: 1');
    // Retry when the window ends: next midnight UTC.
    const untilMidnight = (Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000 - Date.now()) / 1000;
    expect(Math.abs(Number(refused.retryAfter) - untilMidnight)).toBeLessThan(5);
    // /key/info shows each window's spend, as LiteLLM's budget_limits_usage.
    const info = await (await fetch(`${stack.url}/key/info?key=${key}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })).json() as Json;
    expect(info.info.budget_limits_usage).toEqual({ '30d': { current_spend: 1 }, '24h': { current_spend: 1 } });

    // Raising the window through /key/update lets the key spend again; spend so far stays counted.
    await admin('/key/update', { key, budget_limits: [{ budget_duration: '30d', max_budget: 100 }, { budget_duration: '24h', max_budget: 2 }] });
    await eventually(async () => ((await chat(key)).status === 200 ? true : undefined), 10_000);
  });

  it('refuse every key of a team once one of the team\'s windows is spent', async () => {
    const team = await admin('/team/new', { team_alias: 'windowed-team', budget_limits: [{ budget_duration: '7d', max_budget: 1 }] });
    const { key } = await admin('/key/generate', { team_id: team.team_id, max_budget: 100 });
    const { key: sibling } = await admin('/key/generate', { team_id: team.team_id });
    expect((await chat(key)).status).toBe(200);
    expect((await chat(sibling)).status).toBe(200);
    const message = `Budget has been exceeded! Team over 7d budget: Team=${team.team_id} Current cost: 1, Max budget: 1`;
    await settledRefusal(key, message);
    expect((await chat(sibling)).error?.message).toBe(message);
  });

  it('hold concurrent calls of a key with no other budget to its window: what is in flight counts', async () => {
    const { key } = await admin('/key/generate', { key_alias: 'windowed-only', budget_limits: [{ budget_duration: '1d', max_budget: 1 }] });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => chat(key)));
    // Each call is estimated at what it costs (0.5): two fit the window at once, the rest are refused.
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(2);
    expect(outcomes.filter((o) => o.status === 429).every((o) => o.error?.message.startsWith('Budget has been exceeded! Key over 1d budget: Key=windowed-only'))).toBe(true);
  });

  it('start the windows again on a reset to 0, and keep it when the limiter re-reads the key; a regenerated key keeps its spend', async () => {
    const { key } = await admin('/key/generate', { key_alias: 'rotating', max_budget: 100, budget_limits: [{ budget_duration: '1d', max_budget: 1 }] });
    expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(200);
    await settledRefusal(key, 'Budget has been exceeded! Key over 1d budget: Key=rotating Current cost: 1, Max budget: 1');
    // Both calls are in the spend logs before the key is rotated.
    await loggedSpend(key, 1);
    const rotated = (await admin('/key/regenerate', { key })).key as string;
    expect((await chat(rotated)).error?.message).toBe('Budget has been exceeded! Key over 1d budget: Key=rotating Current cost: 1, Max budget: 1');

    await admin(`/key/${rotated}/reset_spend`, { reset_to: 0 });
    expect((await chat(rotated)).status).toBe(200);
    expect((await chat(rotated)).status).toBe(200);
    await loggedSpend(rotated, 1);
    // An admin change makes the limiter re-read the key and the spend logs (2 under each hash): the reset stands.
    await admin('/key/update', { key: rotated, metadata: { touched: true } });
    await settledRefusal(rotated, 'Budget has been exceeded! Key over 1d budget: Key=rotating Current cost: 1, Max budget: 1');
  });

  it('count what the spend logs already hold for the window when the limiter first loads the key', async () => {
    const key = 'sk-windows-preloaded-0001';
    // Spent earlier today (in another isolate's life, say): a full day's budget.
    await exec(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, api_key, spend, "startTime", "endTime") VALUES ('preloaded-1', '${sha256(key)}', 1, now(), now())`);
    // And yesterday's spend, outside today's window.
    await exec(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, api_key, spend, "startTime", "endTime") VALUES ('preloaded-0', '${sha256(key)}', 50, now() - interval '1 day' - interval '1 hour', now())`);
    await admin('/key/generate', { key, key_alias: 'preloaded', budget_limits: [{ budget_duration: '1d', max_budget: 1 }] });
    expect((await chat(key)).error?.message).toBe('Budget has been exceeded! Key over 1d budget: Key=preloaded Current cost: 1, Max budget: 1');
  });
});

describe('a window\'s spend read from Postgres', () => {
  it('adds a long window\'s first-day rows, the daily rollups between and today\'s rows, and nothing outside it', async () => {
    const hash = sha256('sk-window-sum-0001');
    const log = (id: string, at: string, spend: number) => exec(stack.db.url,
      `INSERT INTO "LiteLLM_SpendLogs" (request_id, api_key, spend, "startTime", "endTime") VALUES ('${id}', '${hash}', ${spend}, '${at}', '${at}')`);
    const rollup = (date: string, spend: number) => exec(stack.db.url,
      `INSERT INTO "LiteLLM_DailyKeySpend" (date, api_key, model, spend) VALUES ('${date}', '${hash}', 'm-${date}', ${spend})`);
    await log('w-before', '2026-11-22T23:00:00Z', 100); // before the week began (Monday the 23rd)
    await log('w-first', '2026-11-23T10:00:00Z', 1);
    await rollup('2026-11-23', 101); // the first day's own rollup (its rows in the window are counted instead)
    await rollup('2026-11-24', 2);
    await log('w-today', '2026-11-25T09:00:00Z', 4);
    await rollup('2026-11-25', 4); // today's rollup: today's rows are counted instead
    const pool = { query: (sql: string, params: unknown[]) => query(stack.db.url, sql, params).then((rows) => ({ rows })) };
    const policy = { ...missingPolicy('key', hash), budgetLimits: [{ duration: '7d', maxBudget: 10, spend: 0, resetAt: Date.parse('2026-11-30T00:00:00Z') }] };
    const counted = await withWindowSpend(pool as never, policy, Date.parse('2026-11-25T15:30:00Z'), 'UTC', false);
    expect(counted.budgetLimits?.[0]?.spend).toBe(7);
    // With disable_spend_logs there are only the rollups: the first day counts whole.
    const rollupsOnly = await withWindowSpend(pool as never, policy, Date.parse('2026-11-25T15:30:00Z'), 'UTC', true);
    expect(rollupsOnly.budgetLimits?.[0]?.spend).toBe(107);
  });
});
