// The lago poster's drops: calls with no customer, events Lago refuses, secrets kept out of what it logs, the test payload.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeLago } from '../../../../test/fakes/lago.ts';
import { call, LAGO_TEST_API_KEY, type LagoPosterRig, segment, startLagoPosterRig } from '../../../../test/support/lago-poster.ts';
import { lagoPoster } from './lago.ts';

// The poster against a fake Lago on loopback, through the dispatcher.
describe('the lago poster', () => {
  const API_KEY = LAGO_TEST_API_KEY;
  let lago: FakeLago;
  let env: Record<string, string>;
  let deliver: LagoPosterRig['deliver'];
  let stored: LagoPosterRig['stored'];
  beforeAll(async () => {
    ({ lago, env, deliver, stored } = await startLagoPosterRig());
  });
  afterAll(async () => {
    await lago?.close();
  });

  const encoder = new TextEncoder();

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
