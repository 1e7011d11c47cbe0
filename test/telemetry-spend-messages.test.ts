/**
 * How the spend-log consumer reads its messages (called directly in Node, as
 * in telemetry-spend): compressed packs beside plain ones, bodies that do not
 * decode, values that are not numbers, batches larger than one statement.
 */
import { describe, expect, it } from 'vitest';
import { query } from './support/pg-client.ts';
import { consumers, consume as consumeWith, fakeBatch, type Consumer, type FakeBatch, record } from './support/spend-consumer.ts';
import { num, useWorkerDatabase, workerModule } from './support/worker-database.ts';

const db = useWorkerDatabase();
const one = db.one;
const consume = (consumer: Consumer, batch: FakeBatch) => consumeWith(consumer, batch, db.env);

describe('spend-log messages', () => {
  it('reads packs compressed as the gateway sends them beside plain ones, and drops a body that does not decode', async () => {
    const { consumeSpendLogs } = await consumers();
    const { encodePack } = await workerModule<{ encodePack(json: string): Uint8Array }>('worker/telemetry/queue-packing.ts');
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
