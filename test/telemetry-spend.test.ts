/**
 * The spend-log consumer, called directly (in Node) with a fake MessageBatch
 * against a real database, through the same driver and WebSocket proxy the
 * Workers use: idempotent writes, rollups, retries and the dead-letter queue.
 * How it reads messages is in telemetry-spend-messages; the scheduled jobs in
 * telemetry-spend-jobs; the gateway-to-Postgres paths in telemetry-spend-load
 * and telemetry-spend-dlq.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { consume as consumeWith, consumers, fakeBatch, type Consumer, type ConsumerEnv, type FakeBatch, record } from './support/spend-consumer.ts';
import { num, useWorkerDatabase } from './support/worker-database.ts';

const db = useWorkerDatabase();
const one = db.one;
const consume = (consumer: Consumer, batch: FakeBatch, env: ConsumerEnv = db.env) => consumeWith(consumer, batch, env);

describe('spend-log consumer', () => {
  beforeAll(async () => {
    await query(db.url, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name) VALUES ($1, 'sk-...a')`, [sha256('sk-unit-a')]);
    await exec(db.url, `INSERT INTO "LiteLLM_TeamTable" (team_id) VALUES ('unit-team');
      INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ('unit-user');
      INSERT INTO "LiteLLM_OrganizationTable" (organization_id) VALUES ('unit-org');
      INSERT INTO "LiteLLM_TagTable" (tag_name) VALUES ('beta');`);
  });

  it('with disable_spend_logs (messages marked rows: false) keeps no rows, yet counts spend and rollups once when delivered twice', async () => {
    const { consumeSpendLogs } = await consumers();
    const key = sha256('sk-unit-norows');
    // Its own key and no team, user, org, customer or tag: the other tests' totals stay theirs.
    const alone = { team_id: null, user: '', organization_id: null, end_user: null, request_tags: [] };
    await query(db.url, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name) VALUES ($1, 'sk-...r')`, [key]);
    const records = [record({ api_key: key, spend: 0.25, ...alone }), record({ api_key: key, spend: 0.5, ...alone })];
    for (let delivery = 1; delivery <= 2; delivery++) {
      const { batch, outcome } = fakeBatch([{ rows: false, records }], delivery);
      await consume(consumeSpendLogs, batch);
      expect(outcome).toEqual({ acked: true });
    }
    const ids = records.map((r) => r.request_id);
    expect(num((await one('SELECT count(*) AS n FROM "LiteLLM_SpendLogs" WHERE request_id = ANY($1)', [ids])).n)).toBe(0);
    expect(num((await one('SELECT count(*) AS n FROM "Tollgate_SpendLogIds" WHERE request_id = ANY($1)', [ids])).n)).toBe(2);
    expect(num((await one('SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [key])).spend)).toBeCloseTo(0.75, 12);
    const daily = await one('SELECT sum(api_requests) AS n, sum(spend) AS spend FROM "LiteLLM_DailyKeySpend" WHERE api_key = $1', [key]);
    expect([num(daily.n), num(daily.spend)]).toEqual([2, 0.75]);
  });

  it('writes a batch delivered twice once: one row per request, spend and rollups counted once', async () => {
    const { consumeSpendLogs } = await consumers();
    const records = [
      record(), record({ request_tags: ['alpha', 'beta'], spend: 0.002 }),
      record({ call_type: 'aembedding', model: 'text-embedding-3-small', model_group: 'embedder', completion_tokens: 0, spend: 0.0005 }),
      record({ status: 'failure', error_type: 'rate_limit_error', spend: 0, prompt_tokens: 0, completion_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }),
    ];
    const bodies = [{ records: records.slice(0, 2) }, { records: records.slice(2) }];
    for (let delivery = 1; delivery <= 2; delivery++) {
      const { batch, outcome } = fakeBatch(bodies, delivery);
      await consume(consumeSpendLogs, batch);
      expect(outcome).toEqual({ acked: true });
    }
    // Again, with the same requests beside a new one, and one of them twice in the batch.
    const late = record({ spend: 0.004 });
    const { batch, outcome } = fakeBatch([{ records: [records[0], late, late] }, records[1]]);
    await consume(consumeSpendLogs, batch);
    expect(outcome.acked).toBe(true);
    const all = [...records, late];
    const total = all.reduce((s, r) => s + r.spend, 0);

    const ids = all.map((r) => r.request_id);
    expect(num((await one('SELECT count(*) AS n FROM "LiteLLM_SpendLogs" WHERE request_id = ANY($1)', [ids])).n)).toBe(5);
    expect(num((await one('SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256('sk-unit-a')])).spend)).toBeCloseTo(total, 12);
    for (const [table, id, column] of [['LiteLLM_TeamTable', 'team_id', 'team_spend'], ['LiteLLM_UserTable', 'user_id', 'spend'],
      ['LiteLLM_OrganizationTable', 'organization_id', 'spend'], ['LiteLLM_EndUserTable', 'user_id', 'spend']] as const) {
      const row = await one(`SELECT ${column} AS spend FROM "${table}" WHERE ${id} = ANY($1)`, [['unit-team', 'unit-user', 'unit-org', 'unit-cust']]);
      expect(num(row.spend), table).toBeCloseTo(total, 12);
    }

    // Daily rollups: one row per (entity, day, key, model, provider, endpoint), totals equal to the rows'.
    const keyDaily = await query(db.url, `SELECT model, model_group, endpoint, custom_llm_provider, date, prompt_tokens, completion_tokens,
        cache_read_input_tokens, cache_creation_input_tokens, spend, api_requests, successful_requests, failed_requests
      FROM "LiteLLM_DailyKeySpend" WHERE api_key = $1 ORDER BY endpoint`, [sha256('sk-unit-a')]);
    expect(keyDaily).toHaveLength(2);
    expect(keyDaily[0]).toMatchObject({ model: 'gpt-4o', model_group: 'gpt-4o', endpoint: '/chat/completions', custom_llm_provider: 'openai', date: '2026-11-20' });
    expect(keyDaily[0]).toMatchObject({ prompt_tokens: '30', completion_tokens: '15', cache_read_input_tokens: '6', cache_creation_input_tokens: '3' });
    expect(keyDaily[0]).toMatchObject({ api_requests: '4', successful_requests: '3', failed_requests: '1' });
    expect(num(keyDaily[0]?.spend)).toBeCloseTo(0.007, 12);
    expect(keyDaily[1]).toMatchObject({ model: 'text-embedding-3-small', model_group: 'embedder', endpoint: '/embeddings', api_requests: '1', completion_tokens: '0' });
    for (const [table, column, id] of [['LiteLLM_DailyUserSpend', 'user_id', 'unit-user'], ['LiteLLM_DailyTeamSpend', 'team_id', 'unit-team'],
      ['LiteLLM_DailyOrganizationSpend', 'organization_id', 'unit-org'], ['LiteLLM_DailyEndUserSpend', 'end_user_id', 'unit-cust']] as const) {
      const row = await one(`SELECT count(*) AS n, sum(spend) AS spend, sum(api_requests) AS requests, sum(failed_requests) AS failed
        FROM "${table}" WHERE ${column} = $1`, [id]);
      expect(row, table).toMatchObject({ n: '2', requests: '5', failed: '1' });
      expect(num(row.spend), table).toBeCloseTo(total, 12);
    }
    const tags = await query(db.url, 'SELECT tag, sum(spend) AS spend, sum(api_requests) AS requests FROM "LiteLLM_DailyTagSpend" GROUP BY tag ORDER BY tag');
    expect(tags.map((t) => [t.tag, t.requests])).toEqual([['alpha', '5'], ['beta', '1']]);
    expect(num(tags[1]?.spend)).toBeCloseTo(0.002, 12);
    // A tag managed through /tag/* counts its calls' spend once; one only calls carried gets no row.
    expect(num((await one(`SELECT spend FROM "LiteLLM_TagTable" WHERE tag_name = 'beta'`)).spend)).toBeCloseTo(0.002, 12);
    expect(await query(db.url, `SELECT 1 FROM "LiteLLM_TagTable" WHERE tag_name = 'alpha'`)).toEqual([]);
  });

  it('retries a batch it cannot write with growing delays, and the dead-letter consumer with longer ones', async () => {
    const { consumeSpendLogs, consumeDeadSpendLogs } = await consumers();
    const down = { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/postgres', DATABASE_WSPROXY: db.proxyUrl };
    const r = record();
    for (const [attempts, delaySeconds] of [[1, 2], [2, 4], [3, 8]]) {
      const { batch, outcome } = fakeBatch([{ records: [r] }], attempts);
      await consume(consumeSpendLogs, batch, down);
      expect(outcome).toEqual({ acked: false, retry: { delaySeconds } });
    }
    for (const [attempts, delaySeconds] of [[1, 15], [2, 30], [10, 900]]) {
      const { batch, outcome } = fakeBatch([{ records: [r] }], attempts);
      await consume(consumeDeadSpendLogs, batch, down);
      expect(outcome).toEqual({ acked: false, retry: { delaySeconds } });
    }
    // Long past its retries, it goes back on the dead-letter queue as new messages, acked only once they are there.
    const sent: unknown[] = [];
    const { batch, outcome } = fakeBatch([{ records: [r] }], 20);
    await consume(consumeDeadSpendLogs, batch, { ...down, SPEND_LOG_DLQ: { sendBatch: async (m) => void sent.push(...m) } });
    expect(outcome).toEqual({ acked: true });
    expect(sent).toEqual([{ body: { records: [r] }, contentType: 'json', delaySeconds: 900 }]);
    const refused = fakeBatch([{ records: [r] }], 20);
    await consume(consumeDeadSpendLogs, refused.batch, { ...down, SPEND_LOG_DLQ: { sendBatch: () => Promise.reject(new Error('queue down')) } });
    expect(refused.outcome).toEqual({ acked: false, retry: { delaySeconds: 900 } });

    // Once Postgres answers, the dead-letter consumer writes it like the first consumer.
    const { batch: again, outcome: written } = fakeBatch([{ records: [r] }], 4);
    await consume(consumeDeadSpendLogs, again);
    expect(written).toEqual({ acked: true });
    expect(num((await one('SELECT count(*) AS n FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [r.request_id])).n)).toBe(1);
  });
});
