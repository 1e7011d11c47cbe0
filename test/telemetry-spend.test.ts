/**
 * The spend-log consumers, called directly (in Node) with a fake MessageBatch
 * against a real database, through the same driver and WebSocket proxy the
 * Workers use. The scheduled jobs are in telemetry-spend-jobs; the
 * gateway-to-Postgres paths in telemetry-spend-load and telemetry-spend-dlq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../scripts/lib/migrate.ts';
import { startWsProxy, type WsProxy } from '../scripts/lib/wsproxy.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';

// The Worker modules are typed against @cloudflare/workers-types, which this Node-side tsconfig does not
// load; they are imported by a computed path (so tsc does not follow them) and typed here.
type Env = { DATABASE_URL: string; DATABASE_WSPROXY: string; SPEND_LOG_DLQ?: { sendBatch(m: { body: unknown }[]): Promise<void> } };
type Consumer = (batch: FakeBatch, env: Env, ctx: { waitUntil(p: Promise<unknown>): void }) => Promise<void>;
const workerModule = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href);
const consumers = () => workerModule<{ consumeSpendLogs: Consumer; consumeDeadSpendLogs: Consumer }>('../admin-worker/queues/spend-logs.ts');

let db: TestDatabase;
let proxy: WsProxy;
let env: Env;

beforeAll(async () => {
  db = await freshDatabase();
  proxy = await startWsProxy({ allow: [db.address] });
  // Also points the Neon driver at `ws` (Node), as the Workers' runtime has WebSocket built in.
  await migrateDatabase(db.url, proxy.url);
  env = { DATABASE_URL: db.url, DATABASE_WSPROXY: proxy.url };
});
afterAll(async () => {
  await proxy?.close();
  await db?.drop().catch(() => undefined);
});

interface FakeBatch {
  queue: string;
  messages: { id: string; timestamp: Date; body: unknown; attempts: number; ack(): void; retry(): void }[];
  ackAll(): void;
  retryAll(options?: { delaySeconds?: number }): void;
}

/** A MessageBatch as the runtime hands it over, recording what the consumer answered. */
function fakeBatch(bodies: unknown[], attempts = 1) {
  const outcome: { acked: boolean; retry?: { delaySeconds?: number } } = { acked: false };
  const batch: FakeBatch = {
    queue: 'tollgate-spend-logs',
    messages: bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), body, attempts, ack() {}, retry() {} })),
    ackAll: () => void (outcome.acked = true),
    retryAll: (options) => void (outcome.retry = options ?? {}),
  };
  return { batch, outcome };
}

async function consume(consumer: Consumer, batch: FakeBatch, e: Env = env) {
  const pending: Promise<unknown>[] = [];
  await consumer(batch, e, { waitUntil: (p) => void pending.push(p) });
  await Promise.all(pending);
}

let seq = 0;
/** A spend-log record as the gateway sends it (worker/telemetry/spend-log.ts). */
function record(fields: Record<string, unknown> = {}) {
  const t = new Date('2026-11-20T10:00:00Z').getTime() + seq * 1000;
  return {
    request_id: `req-${++seq}-${Math.random().toString(36).slice(2, 8)}`, call_type: 'acompletion', api_key: sha256('sk-unit-a'),
    spend: 0.001, total_tokens: 15, prompt_tokens: 10, completion_tokens: 5, cache_read_input_tokens: 2, cache_creation_input_tokens: 1,
    startTime: new Date(t).toISOString(), endTime: new Date(t + 50).toISOString(), completionStartTime: null, request_duration_ms: 50,
    model: 'gpt-4o', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1',
    user: 'unit-user', metadata: { user_api_key_alias: null }, cache_hit: false, cache_key: null, request_tags: ['alpha'],
    team_id: 'unit-team', organization_id: 'unit-org', end_user: 'unit-cust', messages: null, response: null, session_id: null,
    status: 'success', error_type: null, ...fields,
  };
}

const one = async (sql: string, params: unknown[] = []) => (await query(db.url, sql, params))[0] ?? {};
const num = (v: unknown) => Number(v ?? 0);

describe('spend-log consumer', () => {
  beforeAll(async () => {
    await query(db.url, `INSERT INTO "LiteLLM_VerificationToken" (token, key_name) VALUES ($1, 'sk-...a')`, [sha256('sk-unit-a')]);
    await exec(db.url, `INSERT INTO "LiteLLM_TeamTable" (team_id) VALUES ('unit-team');
      INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ('unit-user');
      INSERT INTO "LiteLLM_OrganizationTable" (organization_id) VALUES ('unit-org');`);
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
  });

  it('retries a batch it cannot write with growing delays, and the dead-letter consumer with longer ones', async () => {
    const { consumeSpendLogs, consumeDeadSpendLogs } = await consumers();
    const down = { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/postgres', DATABASE_WSPROXY: proxy.url };
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

describe('spend-log messages', () => {
  it('reads packs compressed as the gateway sends them beside plain ones, and drops a body that does not decode', async () => {
    const { consumeSpendLogs } = await consumers();
    const { encodePack } = await workerModule<{ encodePack(json: string): Uint8Array }>('../worker/telemetry/queue-packing.ts');
    const packed = [record(), record({ messages: [{ role: 'user', content: 'héllo ✓' }] })];
    const plain = record();
    const body = encodePack(JSON.stringify({ records: packed }));
    expect(body.byteLength).toBeLessThan(JSON.stringify({ records: packed }).length);
    const { batch, outcome } = fakeBatch([body, { records: [plain] }, new Uint8Array([31, 139, 8, 0, 1, 2, 3])]);
    await consume(consumeSpendLogs, batch);
    expect(outcome).toEqual({ acked: true });
    const rows = await query(db.url, 'SELECT request_id, messages FROM "LiteLLM_SpendLogs" WHERE request_id = ANY($1) ORDER BY request_id', [[...packed, plain].map((r) => r.request_id)]);
    expect(rows.map((r) => r.request_id).sort()).toEqual([...packed, plain].map((r) => r.request_id).sort());
    expect(rows.find((r) => r.request_id === packed[1]?.request_id)?.messages).toEqual([{ role: 'user', content: 'héllo ✓' }]);
  });

  it('keep sums clean: a count or cost that is not a number is written as 0 (a duration as null), a fraction rounded', async () => {
    const { consumeSpendLogs } = await consumers();
    const odd = record({ api_key: 'not-a-key', team_id: null, organization_id: null, user: '', end_user: null, spend: Number.NaN, prompt_tokens: Number.POSITIVE_INFINITY, completion_tokens: 3.6, request_duration_ms: Number.NaN });
    const { batch, outcome } = fakeBatch([{ records: [odd] }]);
    await consume(consumeSpendLogs, batch);
    expect(outcome).toEqual({ acked: true });
    const row = await one('SELECT spend, prompt_tokens, completion_tokens, request_duration_ms FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [odd.request_id]);
    expect({ ...row, spend: num(row.spend) }).toEqual({ spend: 0, prompt_tokens: 0, completion_tokens: 4, request_duration_ms: null });
  });

  it('write a batch larger than one statement takes, each record once, delivered twice', async () => {
    const { consumeSpendLogs } = await consumers();
    const many = Array.from({ length: 1_200 }, () => record({ api_key: 'bulk-key', team_id: null, organization_id: null, user: '', end_user: null, request_tags: [], spend: 0.001 }));
    const bodies = [{ records: many.slice(0, 700) }, { records: many.slice(700) }];
    for (let delivery = 1; delivery <= 2; delivery++) {
      const { batch, outcome } = fakeBatch(bodies, delivery);
      await consume(consumeSpendLogs, batch);
      expect(outcome).toEqual({ acked: true });
    }
    const rows = await one('SELECT count(*) AS n, sum(spend) AS s FROM "LiteLLM_SpendLogs" WHERE api_key = $1', ['bulk-key']);
    expect(num(rows.n)).toBe(1_200);
    expect(num(rows.s)).toBeCloseTo(1.2, 6);
    const daily = await one('SELECT sum(api_requests) AS n, sum(spend) AS s FROM "LiteLLM_DailyKeySpend" WHERE api_key = $1', ['bulk-key']);
    expect(num(daily.n)).toBe(1_200);
    expect(num(daily.s)).toBeCloseTo(1.2, 6);
  });
});
