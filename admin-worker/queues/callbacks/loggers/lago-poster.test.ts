// The lago poster against a fake Lago: batches sent, lost answers, retries, duplicates halved out, the request budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLago } from '../../../../test/fakes/lago.ts';
import { call, LAGO_TEST_API_KEY, type LagoPosterRig, segment, startLagoPosterRig } from '../../../../test/support/lago-poster.ts';
import { MAX_LAGO_REQUESTS } from './lago.ts';

// The poster against a fake Lago on loopback, through the dispatcher.
describe('the lago poster', () => {
  const API_KEY = LAGO_TEST_API_KEY;
  let lago: FakeLago;
  let deliver: LagoPosterRig['deliver'];
  let stored: LagoPosterRig['stored'];
  beforeAll(async () => {
    ({ lago, deliver, stored } = await startLagoPosterRig());
  });
  afterAll(async () => {
    await lago?.close();
  });


  it('sends a batch\'s calls as one request of events with the Bearer key', async () => {
    const { reports, retried } = await deliver([segment(0, [call('b-1'), call('b-2')]), segment(1, [call('b-3')])]);
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    const batch = lago.batches.at(-1)!;
    expect(batch.events.map((e) => e.transaction_id)).toEqual(['b-1', 'b-2', 'b-3']);
    expect(batch.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(stored('b-2')).toMatchObject({ code: 'llm_usage', properties: { response_cost: 0.0012, total_tokens: 16 } });
  });

  it('counts a batch whose answer was lost as taken when its resend finds every event there (no event twice, no retry after)', async () => {
    lago.loseNextAnswer();
    const first = await deliver([segment(2, [call('lost-1'), call('lost-2')])]);
    expect(first.retried).toEqual([2]);
    const before = lago.batches.length;
    const again = await deliver([segment(2, [call('lost-1'), call('lost-2'), call('lost-3')])]);
    expect({ reports: again.reports, retried: again.retried }).toEqual({ reports: [], retried: [] });
    // The duplicates are left out and the rest sent again: Lago stores a batch all or nothing.
    expect(lago.batches.slice(before).map((b) => b.events.map((e) => e.transaction_id))).toEqual([['lost-3']]);
    expect([...lago.events.keys()].filter((k) => k.includes('lost-'))).toHaveLength(3);
  });

  it('retries what Lago answers 429, 502, 503, 504 or 401 (a wrong key) in one request, and names no key in the reason', async () => {
    for (const status of [429, 502, 503, 504]) {
      // Only a plain 500 is the batch endpoint's answer to a duplicate: these are Lago down, the batch retried as it is.
      lago.failNext(status, 1);
      const hits = { ...lago.hits };
      const { retried, reports } = await deliver([segment(5, [call(`busy-${status}-1`), call(`busy-${status}-2`)])]);
      expect(retried).toEqual([5]);
      expect(reports[0]).toContain(`HTTP ${status}`);
      expect(lago.hits).toEqual({ batch: hits.batch + 1, single: hits.single });
      expect(stored(`busy-${status}-1`)).toBeUndefined();
    }
    const wrongKey = await deliver([segment(6, [call('wrong-key')])], { LAGO_API_KEY: 'lago-wrong-key-0000000' });
    expect(wrongKey.retried).toEqual([6]);
    expect(wrongKey.reports.join('')).not.toContain('lago-wrong-key-0000000');
    expect(stored('wrong-key')).toBeUndefined();
  });

  it('settles a batch Lago stored but for its duplicates (events saved one by one, a 422 all the same): the rest sent again', async () => {
    await deliver([segment(11, [call('part-old')])]);
    lago.batchMode('stores-the-rest');
    try {
      const before = lago.refused.length;
      const { reports, retried } = await deliver([segment(12, [call('part-old'), call('part-new-1'), call('part-new-2')])]);
      expect({ reports, retried }).toEqual({ reports: [], retried: [] });
      // The rest, already stored by the first answer, comes back as duplicates: taken, not sent a third time.
      expect(lago.refused.slice(before)).toEqual([422, 422]);
    } finally {
      lago.batchMode('all-or-nothing');
    }
    expect([...lago.events.keys()].filter((k) => k.includes('part-'))).toHaveLength(3);
  });

  it('halves a batch Lago fails with a 500 down to events alone, so a duplicate it fails the batch on is settled alone, not retried forever', async () => {
    await deliver([segment(13, [call('dup-old')])]);
    lago.batchMode('fails-on-duplicates');
    try {
      const { reports, retried } = await deliver([segment(14, [call('dup-old'), call('dup-new-1')]), segment(15, [call('dup-new-2')])]);
      expect({ reports, retried }).toEqual({ reports: [], retried: [] });
      expect(lago.singles.map((e) => e.transaction_id)).toEqual(['dup-new-1', 'dup-new-2']);
      expect(stored('dup-new-2')).toMatchObject({ code: 'llm_usage', external_subscription_id: 'customer-7' });
      // Lago failing every request with a 500: halved down to one event alone, then the batch is retried whole.
      lago.failNext(500, 2);
      const down = await deliver([segment(16, [call('down-1'), call('down-2')])]);
      expect(down.retried).toEqual([16]);
      expect(lago.singles).toHaveLength(2);
      expect(stored('down-2')).toBeUndefined();
    } finally {
      lago.batchMode('all-or-nothing');
    }
  });

  it('finds a duplicate among 40 events in about 2·log2(40) requests, not one a event', async () => {
    await deliver([segment(17, [call('many-17')])]);
    const calls = Array.from({ length: 40 }, (_, i) => call(`many-${i}`));
    lago.batchMode('fails-on-duplicates');
    const hits = lago.hits.batch + lago.hits.single;
    try {
      const { reports, retried } = await deliver([segment(18, calls)]);
      expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    } finally {
      lago.batchMode('all-or-nothing');
    }
    expect(lago.hits.batch + lago.hits.single - hits).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(40)));
    expect(calls.every((c) => stored(c.id))).toBe(true);
  });

  it('spends no more than its request budget on a batch of many duplicates, and retries the rest', async () => {
    const calls = Array.from({ length: 100 }, (_, i) => call(`budget-${i}`));
    await deliver([segment(19, calls.filter((_, i) => i % 5 === 0))]);
    lago.batchMode('fails-on-duplicates');
    const hits = lago.hits.batch + lago.hits.single;
    try {
      const { reports, retried } = await deliver([segment(20, calls)]);
      expect(retried).toEqual([20]);
      expect(reports).toEqual([expect.stringContaining(`this post's ${MAX_LAGO_REQUESTS} requests to Lago are spent`)]);
    } finally {
      lago.batchMode('all-or-nothing');
    }
    expect(lago.hits.batch + lago.hits.single - hits).toBe(MAX_LAGO_REQUESTS);
  });

  it('sends the events past one Lago always fails once Lago has answered, then retries the batch; the retry settles it', async () => {
    lago.failTransaction('stuck');
    const ids = ['before-stuck', 'stuck', 'after-stuck-1', 'after-stuck-2'];
    try {
      const first = await deliver([segment(21, ids.map((id) => call(id)))]);
      expect(first.retried).toEqual([21]);
      expect(first.reports).toEqual([expect.stringContaining('HTTP 500')]);
    } finally {
      lago.failTransaction(undefined);
    }
    expect(ids.map((id) => !!stored(id))).toEqual([true, false, true, true]);
    const again = await deliver([segment(21, ids.map((id) => call(id)))]);
    expect({ reports: again.reports, retried: again.retried }).toEqual({ reports: [], retried: [] });
    expect(ids.every((id) => stored(id))).toBe(true);
  });
});
