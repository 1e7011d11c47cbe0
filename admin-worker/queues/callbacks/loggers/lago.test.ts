import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeLago, startFakeLago } from '../../../../test/fakes/lago.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import { lagoEvent, lagoPoster, MAX_LAGO_REQUESTS, perEventErrors } from './lago.ts';

// LiteLLM's Lago usage event, from a StandardLoggingPayload: what Lago bills by (the customer's subscription, the
// billable metric's code, the cost and tokens as properties), and a transaction id that makes a resend harmless.

const payload = {
  id: 'call-1', call_type: 'acompletion', status: 'success', model: 'gpt-4o', response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 100, endTime: 101.5, end_user: 'customer-7',
  metadata: { user_api_key_user_id: 'user-3', user_api_key_team_id: 'team-9' },
};

describe('the lago event', () => {
  it('is LiteLLM\'s: the call id as transaction id, the end user\'s subscription, the event code, model, cost and tokens; the call\'s time', () => {
    expect(lagoEvent(payload, 'llm_usage', 'end_user_id')).toEqual({
      transaction_id: 'call-1', external_subscription_id: 'customer-7', code: 'llm_usage', timestamp: 101.5,
      properties: { model: 'gpt-4o', response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
    });
  });

  it('charges the key\'s user or team by LAGO_API_CHARGE_BY, and no one when that is missing', () => {
    expect(lagoEvent(payload, 'c', 'user_id')?.external_subscription_id).toBe('user-3');
    expect(lagoEvent(payload, 'c', 'team_id')?.external_subscription_id).toBe('team-9');
    expect(lagoEvent({ ...payload, end_user: null }, 'c', 'end_user_id')).toBeUndefined();
    expect(lagoEvent({ ...payload, metadata: { user_api_key_team_id: null } }, 'c', 'team_id')).toBeUndefined();
  });

  it('carries token counts for chat completions and embeddings only, as LiteLLM reads them from those answers', () => {
    expect(lagoEvent({ ...payload, call_type: 'aembedding' }, 'c', 'end_user_id')?.properties).toMatchObject({ prompt_tokens: 11 });
    expect(lagoEvent({ ...payload, call_type: 'aresponses' }, 'c', 'end_user_id')?.properties).toEqual({ model: 'gpt-4o', response_cost: 0.0012 });
  });

  it('reads a 422\'s errors by event index, and nothing from a refusal of the whole batch', () => {
    const body = JSON.stringify({ status: 422, code: 'validation_errors', error_details: { 1: { transaction_id: ['value_already_exist'] } } });
    expect(perEventErrors(body, 2)).toEqual(new Map([[1, { transaction_id: ['value_already_exist'] }]]));
    expect(perEventErrors(body, 1)).toBeUndefined();
    expect(perEventErrors(JSON.stringify({ error_details: { events: ['too_many_events'] } }), 2)).toBeUndefined();
    expect(perEventErrors('<html>', 2)).toBeUndefined();
  });
});

describe('the lago settings', () => {
  const whereOf = (target: ReturnType<typeof lagoPoster.target>) => ('error' in target ? target.error : target.where);
  it('need LAGO_API_BASE, LAGO_API_KEY and LAGO_API_EVENT_CODE, and a LAGO_API_CHARGE_BY LiteLLM knows', () => {
    expect(whereOf(lagoPoster.target({ LAGO_API_KEY: 'k-123456' }))).toBe('LAGO_API_BASE, LAGO_API_EVENT_CODE not set for the admin Worker');
    const env = { LAGO_API_BASE: 'https://lago.example.test/', LAGO_API_KEY: 'k-123456', LAGO_API_EVENT_CODE: 'c' };
    expect(whereOf(lagoPoster.target(env))).toBe('https://lago.example.test');
    expect(whereOf(lagoPoster.target({ ...env, LAGO_API_CHARGE_BY: 'org_id' }))).toBe('LAGO_API_CHARGE_BY must be one of end_user_id, user_id, team_id');
    expect(whereOf(lagoPoster.target({ ...env, LAGO_API_BASE: 'https://user:pw@lago.example.test' }))).toBe('LAGO_API_BASE must not carry credentials in the URL');
  });
});

// The poster against a fake Lago on loopback, through the dispatcher.
describe('the lago poster', () => {
  const API_KEY = 'lago-unit-api-key-0123456789';
  let lago: FakeLago;
  let env: Record<string, string>;
  beforeAll(async () => {
    lago = await startFakeLago({ apiKey: API_KEY });
    env = { LAGO_API_BASE: lago.url, LAGO_API_KEY: API_KEY, LAGO_API_EVENT_CODE: 'llm_usage' };
  });
  afterAll(async () => {
    await lago?.close();
  });

  const encoder = new TextEncoder();
  const call = (id: string, over: Record<string, unknown> = {}) => ({ ...payload, id, ...over });
  const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('lago', origin, payloads);
  const deliver = (segments: LoggerSegment[], over: Record<string, string> = {}) => deliverSegments(segments, { ...env, ...over });
  const stored = (id: string, customer = 'customer-7') => lago.events.get(`${customer}\n${id}`);

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

  it('drops a call with no customer to charge (logged, a failure counted) and sends the others', async () => {
    const { reports, retried } = await deliver([segment(8, [call('nobody', { end_user: null }), call('somebody')])]);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringContaining('1 calls with no customer to charge (LAGO_API_CHARGE_BY end_user_id), dropped')]);
    expect(stored('somebody')).toBeDefined();
    expect([...lago.events.keys()].some((k) => k.endsWith('\nnobody'))).toBe(false);
  });

  it('drops only the event Lago refuses as such, delivering the rest of its batch; retries nothing', async () => {
    lago.refuseTransaction('refused-1');
    const mixed = await deliver([segment(9, [call('fine-1'), call('refused-1'), call('fine-2')])]);
    lago.refuseTransaction(undefined);
    expect(mixed.retried).toEqual([]);
    expect([stored('fine-1'), stored('fine-2'), stored('refused-1')].map(Boolean)).toEqual([true, true, false]);
    expect(mixed.reports).toEqual([expect.stringContaining('1 events Lago refused, dropped: call refused-1: {"properties":["invalid_expression"]}')]);
    // Refused alone, it is the request's refusal: the dispatcher logs and drops it.
    lago.refuseTransaction('refused-2');
    const alone = await deliver([segment(10, [call('refused-2')])]);
    lago.refuseTransaction(undefined);
    expect(alone.retried).toEqual([]);
    expect(alone.reports).toEqual([expect.stringContaining('HTTP 422: Lago refused the events: call refused-2')]);
  });

  it('logs a refused event without any logger\'s secret Lago\'s words quote, not only its own key', async () => {
    const LANGFUSE_SECRET = 'sk-lf-unit-secret-0123456789';
    lago.refuseTransaction('refused-3', `metric failed near ${LANGFUSE_SECRET} and ${API_KEY}`);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    let result: Awaited<ReturnType<typeof deliver>>;
    try {
      result = await deliver([segment(12, [call('fine-3'), call('refused-3')])], { LANGFUSE_SECRET_KEY: LANGFUSE_SECRET });
    } finally {
      spy.mockRestore();
      lago.refuseTransaction(undefined);
    }
    expect(result.retried).toEqual([]);
    expect(lines.join('\n')).toContain('lago callback: Lago refused the event of call refused-3: {"properties":["metric failed near [redacted] and [redacted]"]}; dropped');
    expect([...result.reports, ...lines].join('\n')).not.toContain(LANGFUSE_SECRET);
  });

  it('quotes no start of a secret Lago\'s long words end in, though the quote is cut: log line, dropped report, refusal', async () => {
    const LANGFUSE_SECRET = 'sk-lf-unit-secret-0123456789';
    // 16 characters of `{"properties":["` then 174: the secret starts 10 characters before a 200-character cut.
    lago.refuseTransaction('refused-4', `${'p'.repeat(174)}${LANGFUSE_SECRET}`);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    let dropped: Awaited<ReturnType<typeof deliver>>;
    let refused: Awaited<ReturnType<typeof deliver>>;
    try {
      dropped = await deliver([segment(13, [call('fine-4'), call('refused-4')])], { LANGFUSE_SECRET_KEY: LANGFUSE_SECRET });
      refused = await deliver([segment(14, [call('refused-4')])], { LANGFUSE_SECRET_KEY: LANGFUSE_SECRET });
    } finally {
      spy.mockRestore();
      lago.refuseTransaction(undefined);
    }
    expect(lines.some((l) => l.includes('Lago refused the event of call refused-4: {"properties":["ppp'))).toBe(true);
    expect(dropped.reports).toEqual([expect.stringContaining('1 events Lago refused, dropped: call refused-4: {"properties":["ppp')]);
    expect(refused.reports).toEqual([expect.stringContaining('HTTP 422: Lago refused the events: call refused-4: {"properties":["ppp')]);
    for (const text of [...lines, ...dropped.reports, ...refused.reports]) expect(text).not.toContain('sk-lf-unit');
  });

  it('does not call the /health/services test payload sent when it has no customer to charge', async () => {
    const target = lagoPoster.target({ ...env, LAGO_API_CHARGE_BY: 'team_id' }, { unsampled: true });
    if ('error' in target) throw new Error(target.error);
    const result = await target.post([{ bytes: encoder.encode(JSON.stringify(call('health', { metadata: {} }))), events: 1 }]);
    expect(result).toEqual({ ok: false, retry: false, reason: 'the test payload has no customer to charge (LAGO_API_CHARGE_BY team_id)' });
  });
});
