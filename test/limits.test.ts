import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChatChunks } from './fakes/openai-format.ts';
import { eventually, seedTeam, sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { type LimitsStack, startLimitsStack } from './support/limits-stack.ts';

// Hot keys (leases) are in limits-hot-keys.test.ts.
let limits: LimitsStack;
let stack: LimitsStack['stack'];
let fake: LimitsStack['fake'];
let chat: LimitsStack['chat'];
let keyWith: LimitsStack['keyWith'];
let setClock: LimitsStack['setClock'];

beforeAll(async () => {
  limits = await startLimitsStack();
  ({ stack, fake, chat, keyWith, setClock } = limits);
});
afterAll(async () => {
  await limits?.stop();
});
describe('rate limits', () => {
  it('admit exactly rpm_limit of 50 concurrent requests and refuse the rest with 429 and retry-after', async () => {
    const key = await keyWith({ rpm_limit: 10 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => chat(key)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    const refused = responses.find((r) => r.status === 429) as Response;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await refused.json() as { error: { type: string; message: string; code: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: '429' });
    expect(body.error.message).toMatch(/^Rate limit exceeded for api_key: [0-9a-f]{64}\. Limit type: requests\. Current limit: 10, Remaining: 0\. Limit resets at: /);
  });

  it('report the remaining requests and tokens on success', async () => {
    const key = await keyWith({ rpm_limit: 100, tpm_limit: 100000 });
    const res = await chat(key);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100000);
  });

  it("carry LiteLLM's x-litellm-key-* headers: the key's spend, and its max budget and limits only where it has them", async () => {
    const limited = await keyWith({ rpm_limit: 100, tpm_limit: 100000, max_budget: 5, spend: 1.25 });
    const res = await chat(limited);
    expect(res.status).toBe(200);
    const cost = Number(res.headers.get('x-litellm-response-cost'));
    expect(cost).toBeGreaterThan(0);
    expect(Number(res.headers.get('x-litellm-key-spend'))).toBeCloseTo(1.25 + cost, 9);
    expect(res.headers.get('x-litellm-key-max-budget')).toBe('5');
    expect(res.headers.get('x-litellm-key-tpm-limit')).toBe('100000');
    expect(res.headers.get('x-litellm-key-rpm-limit')).toBe('100');
    const streamed = await chat(limited, { stream: true });
    expect(streamed.headers.get('x-litellm-key-rpm-limit')).toBe('100');
    expect(streamed.headers.get('x-litellm-key-max-budget')).toBe('5');
    await streamed.text();

    const plain = await chat(await keyWith({}));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-litellm-key-spend')).not.toBeNull();
    for (const name of ['x-litellm-key-max-budget', 'x-litellm-key-tpm-limit', 'x-litellm-key-rpm-limit']) expect(plain.headers.get(name), name).toBeNull();
  });

  it('refuse a third concurrent stream under max_parallel_requests 2, and admit again when one ends', async () => {
    const key = await keyWith({ max_parallel_requests: 2 });
    const paced = { kind: 'sse' as const, intervalMs: 150, events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['a', 'b', 'c', 'd', 'e'], promptTokens: 3, completionTokens: 5, includeUsage: true }), '[DONE]'] };
    fake.enqueue(paced, paced);
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const open = () => client.chat.completions.create({ model: 'slow-stream', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const [one, two] = await Promise.all([open(), open()]);
    const third = await open().catch((e: unknown) => e);
    expect(third).toBeInstanceOf(OpenAI.RateLimitError);
    expect((third as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('Limit type: max_parallel_requests');
    for await (const _ of one) { /* let the first stream finish */ }
    fake.enqueue(paced);
    await eventually(async () => {
      const s = await open().catch(() => undefined);
      if (!s) return undefined;
      for await (const _ of s) { /* drain */ }
      return true;
    }, 5000);
    for await (const _ of two) { /* drain */ }
  });
});

/** Runs `count` calls with `concurrency` in flight at a time; their statuses. */
describe('budgets', () => {
  it('hold concurrent spend to the budget plus at most one request, and reopen in the next window', async () => {
    const key = await keyWith({ max_budget: 0.01, budget_duration: '1d' });
    // Each call costs 0.002 (1 prompt + 1 completion token at 0.001) and reserves 0.003 (max_tokens 2).
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => chat(key)));
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    const refusal = await (await chat(key)).json() as { error: { type: string; message: string; code: string } };
    expect(refusal.error).toMatchObject({ type: 'budget_exceeded', code: '429' });
    expect(refusal.error.message).toMatch(/^Budget has been exceeded! Key=sk-\.\.\.[\w-]{4} Current cost: [\d.]+, Max budget: 0\.01$/);
    const spent = await eventually(async () => {
      const [row] = await query<{ total: number; n: string }>(stack.db.url, 'SELECT SUM(spend) AS total, COUNT(*) AS n FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = \'success\'', [sha256(key)]);
      return Number(row?.n) === statuses.filter((s) => s === 200).length ? Number(row?.total) : undefined;
    });
    expect(spent).toBeLessThanOrEqual(0.01 + 0.003 + 1e-9);

    await setClock(25 * 3600 * 1000);
    try {
      expect((await chat(key)).status).toBe(200);
    } finally {
      await setClock(0);
    }
  });

  it('hold a key to its team\'s budget, naming the team', async () => {
    await seedTeam(stack.db.url, { id: 'team-broke', alias: 'broke' });
    await exec(stack.db.url, `UPDATE "LiteLLM_TeamTable" SET max_budget = 1, team_spend = 1 WHERE team_id = 'team-broke'`);
    const key = await keyWith({ max_budget: 100 }, 'team-broke');
    const res = await chat(key);
    expect(res.status).toBe(429);
    const body = await res.json() as { error: { type: string; message: string } };
    expect(body.error.type).toBe('budget_exceeded');
    expect(body.error.message).toBe('Budget has been exceeded! Team=team-broke Current cost: 1, Max budget: 1');
  });

  it('hold an end user (the request\'s user) to its budget', async () => {
    await exec(stack.db.url, `INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget) VALUES ('b-cust', 0.004);
      INSERT INTO "LiteLLM_EndUserTable" (user_id, budget_id) VALUES ('cust-1', 'b-cust')`);
    const key = await keyWith({});
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(key, { user: 'cust-1' })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const body = await (await chat(key, { user: 'cust-1' })).json() as { error: { message: string } };
    expect(body.error.message).toContain('End User=cust-1');
  });
});

describe('durability', () => {
  it('keeps window counters across a restart of the local runtime', async () => {
    const key = await keyWith({ rpm_limit: 3 });
    for (let i = 0; i < 3; i++) expect((await chat(key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    await stack.restartRuntime();
    expect((await chat(key)).status).toBe(429);
  }, 60_000);
});
