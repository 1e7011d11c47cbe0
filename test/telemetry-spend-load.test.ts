/**
 * 1,000 requests through the gateway (the real stack: both Workers in
 * workerd, the Queue, Postgres): every one lands once in LiteLLM_SpendLogs,
 * and the daily rollups and entity spend columns agree with the rows.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, input_cost_per_token: 0.0000011, output_cost_per_token: 0.0000023}
  - model_name: mock-instruct
    litellm_params: {model: mock/mock-instruct, input_cost_per_token: 0.0000007, output_cost_per_token: 0.0000013}
  - model_name: mock-embed
    litellm_params: {model: mock/mock-embed, input_cost_per_token: 0.0000001}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
});

const REQUESTS = 1000;
const CONCURRENCY = 20;
const TAGS = ['billing', 'search', 'support'];
const END_USERS = ['cust-a', 'cust-b', 'cust-c', 'cust-d', 'cust-e'];

/** Sums per entity of one daily table, and of the spend-log rows it rolls up (`logs`: the same entity from LiteLLM_SpendLogs). */
const ROLLUPS: [table: string, entity: string, logs: string][] = [
  ['LiteLLM_DailyKeySpend', 'api_key', 'SELECT api_key AS entity, s.* FROM "LiteLLM_SpendLogs" s'],
  ['LiteLLM_DailyUserSpend', 'user_id', `SELECT "user" AS entity, s.* FROM "LiteLLM_SpendLogs" s WHERE "user" <> ''`],
  ['LiteLLM_DailyTeamSpend', 'team_id', 'SELECT team_id AS entity, s.* FROM "LiteLLM_SpendLogs" s WHERE team_id IS NOT NULL'],
  ['LiteLLM_DailyOrganizationSpend', 'organization_id', 'SELECT organization_id AS entity, s.* FROM "LiteLLM_SpendLogs" s WHERE organization_id IS NOT NULL'],
  ['LiteLLM_DailyEndUserSpend', 'end_user_id', 'SELECT end_user AS entity, s.* FROM "LiteLLM_SpendLogs" s WHERE end_user IS NOT NULL'],
  ['LiteLLM_DailyTagSpend', 'tag', 'SELECT t.tag AS entity, s.* FROM "LiteLLM_SpendLogs" s CROSS JOIN jsonb_array_elements_text(s.request_tags) AS t(tag)'],
];

describe('spend logs under load', () => {
  it('records 1,000 concurrent requests once each, with rollups and entity spend equal to the rows', async () => {
    const url = stack.db.url;
    await seedTeam(url, { id: 'load-team-1' });
    await seedTeam(url, { id: 'load-team-2' });
    await exec(url, `INSERT INTO "LiteLLM_OrganizationTable" (organization_id) VALUES ('load-org');
      INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ('load-user-1'), ('load-user-2');`);
    const keys = [
      await seedKey(url, { teamId: 'load-team-1', userId: 'load-user-1' }),
      await seedKey(url, { teamId: 'load-team-1', userId: 'load-user-2' }),
      await seedKey(url, { teamId: 'load-team-2', userId: 'load-user-1' }),
      await seedKey(url, { userId: 'load-user-2' }),
    ];
    await query(url, `UPDATE "LiteLLM_VerificationToken" SET organization_id = 'load-org' WHERE token = ANY($1)`, [keys.slice(0, 2).map(sha256)]);
    const clients = keys.map((apiKey) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 }));

    const calls: { id: string; cost: number }[] = [];
    const call = async (i: number) => {
      const client = clients[i % clients.length] as OpenAI;
      const tags = i % 7 === 0 ? [] : i % 5 === 0 ? [TAGS[0], TAGS[1]] : [TAGS[i % TAGS.length]];
      const extra = { user: i % 4 === 3 ? undefined : END_USERS[i % END_USERS.length], tags } as Record<string, unknown>;
      const content = `request ${i} ${'word '.repeat(i % 13)}`;
      const { response } = i % 10 === 0
        ? await client.embeddings.create({ model: 'mock-embed', input: content, ...extra }).withResponse()
        : i % 10 === 1
          ? await client.completions.create({ model: 'mock-instruct', prompt: content, ...extra }).withResponse()
          : await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content }], ...extra }).withResponse();
      calls.push({ id: response.headers.get('x-litellm-call-id') ?? '', cost: Number(response.headers.get('x-litellm-response-cost')) });
    };
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) await call(next++);
    }));
    const elapsed = performance.now() - started;
    expect(calls).toHaveLength(REQUESTS);
    expect(new Set(calls.map((c) => c.id)).size).toBe(REQUESTS);
    const expected = calls.reduce((s, c) => s + c.cost, 0);
    expect(expected).toBeGreaterThan(0);

    const rows = await eventually(async () => {
      const [row] = await query(url, 'SELECT count(*)::int AS n, sum(spend) AS spend FROM "LiteLLM_SpendLogs"');
      return row?.n === REQUESTS ? row : undefined;
    }, 60_000);
    const landed = performance.now() - started;
    console.log(`${REQUESTS} requests in ${elapsed.toFixed(0)} ms; all spend logs written after ${landed.toFixed(0)} ms`);
    expect(Number(rows.spend)).toBeCloseTo(expected, 9);
    const ids = await query(url, 'SELECT request_id FROM "LiteLLM_SpendLogs" WHERE request_id = ANY($1)', [calls.map((c) => c.id)]);
    expect(ids).toHaveLength(REQUESTS);

    // Every daily table: per entity, the same requests, tokens and spend as the rows.
    for (const [table, entity, logs] of ROLLUPS) {
      const daily = await query(url, `SELECT ${entity} AS entity, sum(api_requests)::int AS requests, sum(successful_requests)::int AS ok,
          sum(prompt_tokens)::int AS prompt, sum(completion_tokens)::int AS completion, sum(spend) AS spend
        FROM "${table}" GROUP BY 1 ORDER BY 1`);
      const fromLogs = await query(url, `SELECT entity, count(*)::int AS requests, count(*) FILTER (WHERE status = 'success')::int AS ok,
          sum(prompt_tokens)::int AS prompt, sum(completion_tokens)::int AS completion, sum(spend) AS spend
        FROM (${logs}) l GROUP BY 1 ORDER BY 1`);
      expect(daily.length, table).toBeGreaterThan(0);
      expect(daily.map(({ spend: _, ...r }) => r), table).toEqual(fromLogs.map(({ spend: _, ...r }) => r));
      daily.forEach((r, i) => expect(Number(r.spend), `${table} ${String(r.entity)}`).toBeCloseTo(Number(fromLogs[i]?.spend), 9));
    }
    // Dimensions: one row per (entity, day, key, model, provider, endpoint), with the call type's route.
    const endpoints = await query(url, 'SELECT endpoint, model, sum(api_requests)::int AS n FROM "LiteLLM_DailyKeySpend" GROUP BY 1, 2 ORDER BY 1');
    expect(endpoints).toEqual([
      { endpoint: '/chat/completions', model: expect.stringContaining('mock-gpt'), n: 800 },
      { endpoint: '/completions', model: expect.stringContaining('mock-instruct'), n: 100 },
      { endpoint: '/embeddings', model: expect.stringContaining('mock-embed'), n: 100 },
    ]);
    const tags = await query(url, 'SELECT tag FROM "LiteLLM_DailyTagSpend" GROUP BY 1 ORDER BY 1');
    expect(tags.map((t) => t.tag)).toEqual(TAGS);

    // Entity spend columns: each the sum of its rows.
    const entitySpend: [string, string][] = [
      ['SELECT token AS id, spend FROM "LiteLLM_VerificationToken"', 'SELECT api_key AS id, sum(spend) AS spend FROM "LiteLLM_SpendLogs" GROUP BY 1'],
      ['SELECT team_id AS id, team_spend AS spend FROM "LiteLLM_TeamTable"', 'SELECT team_id AS id, sum(spend) AS spend FROM "LiteLLM_SpendLogs" WHERE team_id IS NOT NULL GROUP BY 1'],
      ['SELECT user_id AS id, spend FROM "LiteLLM_UserTable"', `SELECT "user" AS id, sum(spend) AS spend FROM "LiteLLM_SpendLogs" WHERE "user" <> '' GROUP BY 1`],
      ['SELECT organization_id AS id, spend FROM "LiteLLM_OrganizationTable"', 'SELECT organization_id AS id, sum(spend) AS spend FROM "LiteLLM_SpendLogs" WHERE organization_id IS NOT NULL GROUP BY 1'],
      ['SELECT user_id AS id, spend FROM "LiteLLM_EndUserTable"', 'SELECT end_user AS id, sum(spend) AS spend FROM "LiteLLM_SpendLogs" WHERE end_user IS NOT NULL GROUP BY 1'],
    ];
    for (const [columns, logs] of entitySpend) {
      const actual = await query(url, `${columns} ORDER BY 1`);
      const wanted = await query(url, `${logs} ORDER BY 1`);
      expect(actual.map((r) => r.id), columns).toEqual(wanted.map((r) => r.id));
      actual.forEach((r, i) => expect(Number(r.spend), `${columns} ${String(r.id)}`).toBeCloseTo(Number(wanted[i]?.spend), 9));
    }
  }, 180_000);
});
