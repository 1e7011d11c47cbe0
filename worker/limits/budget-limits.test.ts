import { describe, expect, it } from 'vitest';
import { adoptLimitWindows, parseBudgetLimits, withWindowSpend } from './budget-limits.ts';
import { type AdmitRequest, closeBudgetWindow, type Counters, freshCounters, reserve, settleReservation } from './counters.ts';
import { checkAdmission } from './entity-check.ts';
import { grantLease } from './leases.ts';
import { type EntityPolicy, missingPolicy } from './policy.ts';

const NOW = Date.parse('2026-11-25T15:30:00Z'); // a Wednesday
const DAY_END = Date.parse('2026-11-26T00:00:00Z');
const MONTH_END = Date.parse('2026-12-01T00:00:00Z');

function keyPolicy(limits: EntityPolicy['budgetLimits']): EntityPolicy {
  return { ...missingPolicy('key', 'hash-1'), exists: true, keyName: 'sk-...abcd', budgetLimits: limits };
}
const request = (estCost: number, requestId = 'r1'): AdmitRequest => ({ kind: 'key', id: 'hash-1', requestId, model: 'gpt', estCost, estTokens: 10 });

describe('parseBudgetLimits', () => {
  it('reads the stored list (or its text), each window ending on its calendar boundary', () => {
    const stored = [{ budget_duration: '24h', max_budget: 10, reset_at: '2026-11-26T00:00:00+00:00' }, { budget_duration: '30d', max_budget: 100 }];
    for (const value of [stored, JSON.stringify(stored)]) {
      expect(parseBudgetLimits(value, NOW, 'UTC')).toEqual([
        { duration: '24h', maxBudget: 10, spend: 0, resetAt: DAY_END },
        { duration: '30d', maxBudget: 100, spend: 0, resetAt: MONTH_END },
      ]);
    }
  });

  it('keeps a plain duration\'s stored end while it is ahead, and replaces one that has passed', () => {
    const ahead = '2026-11-25T16:00:00.000Z';
    expect(parseBudgetLimits([{ budget_duration: '2h', max_budget: 1, reset_at: ahead }], NOW, 'UTC')[0]?.resetAt).toBe(Date.parse(ahead));
    expect(parseBudgetLimits([{ budget_duration: '2h', max_budget: 1, reset_at: '2026-11-25T15:00:00Z' }], NOW, 'UTC')[0]?.resetAt).toBe(NOW + 2 * 3_600_000);
  });

  it('drops what is not a window: bad durations, negative or missing budgets, repeated durations, non-lists', () => {
    expect(parseBudgetLimits([{ budget_duration: 'soon', max_budget: 1 }, { budget_duration: '1d', max_budget: -1 }, { budget_duration: '1d', max_budget: null },
      { budget_duration: '1d', max_budget: 2 }, { budget_duration: '1d', max_budget: 3 }], NOW, 'UTC').map((l) => l.maxBudget)).toEqual([2]);
    for (const value of [null, undefined, '{', { budget_duration: '1d' }, 7]) expect(parseBudgetLimits(value, NOW, 'UTC')).toEqual([]);
  });
});

describe('admission under budget_limits', () => {
  const policy = keyPolicy([{ duration: '24h', maxBudget: 1, spend: 0.9, resetAt: DAY_END }, { duration: '30d', maxBudget: 5, spend: 4, resetAt: MONTH_END }]);

  it('admits while every window has room, and refuses naming the first spent window', () => {
    const c = freshCounters(policy, 'UTC');
    expect(c.limitWindows).toEqual({ '24h': { spend: 0.9, resetAt: DAY_END }, '30d': { spend: 4, resetAt: MONTH_END } });
    // Nothing in flight and money left: admitted, though its estimate does not fit (as a single max_budget admits).
    expect(checkAdmission(policy, c, request(0.05, 'r0'), NOW)).toBeUndefined();
    // Admitted: its estimate is held (the entity has no other limit that would reserve it).
    reserve(policy, c, request(0.05, 'r0'), NOW);
    expect(c.reservations.r0?.cost).toBe(0.05);
    // In flight: the estimate must fit every window on top of what is held.
    expect(checkAdmission(policy, c, request(0.5), NOW)?.message).toBe('Budget has been exceeded! Key over 24h budget: Key=sk-...abcd Current cost: 0.9, Max budget: 1');
    expect(checkAdmission(policy, c, request(0.05), NOW)).toBeUndefined();
    expect(checkAdmission(policy, c, request(0.06), NOW)).toBeDefined();
    delete c.reservations.r0;
    c.limitWindows!['30d']!.spend = 5;
    const refused = checkAdmission(policy, c, request(0.01), NOW);
    expect(refused).toMatchObject({ status: 429, type: 'budget_exceeded', message: 'Budget has been exceeded! Key over 30d budget: Key=sk-...abcd Current cost: 5, Max budget: 5' });
    // Free models are not held to budgets.
    expect(checkAdmission(policy, c, { ...request(0), free: true }, NOW)).toBeUndefined();
  });

  it('counts a settled call in every window, and starts a window again when it ends, the others going on', () => {
    const c = freshCounters(policy, 'UTC');
    c.reservations.r1 = { cost: 0.2, tokens: 10, model: 'gpt', expiresAt: NOW + 60_000 };
    settleReservation(c, policy, { kind: 'key', id: 'hash-1', requestId: 'r1', model: 'gpt', cost: 0.25, tokens: 10 }, NOW, 'UTC');
    expect(c.limitWindows).toEqual({ '24h': { spend: 1.15, resetAt: DAY_END }, '30d': { spend: 4.25, resetAt: MONTH_END } });
    expect(closeBudgetWindow(c, policy, DAY_END - 1, 'UTC')).toBe(false);
    expect(closeBudgetWindow(c, policy, DAY_END + 5, 'UTC')).toBe(true);
    expect(c.limitWindows).toEqual({ '24h': { spend: 0, resetAt: DAY_END + 86_400_000 }, '30d': { spend: 4.25, resetAt: MONTH_END } });
  });

  it('bounds a hot key\'s lease by a share of what is left of its tightest window', () => {
    const c: Counters = freshCounters(policy, 'UTC');
    const lease = grantLease(policy, c, request(0.001, 'r2'), NOW, 200);
    // 0.1 left in the 24h window: a tenth of it.
    expect(lease?.cost).toBeCloseTo(0.01, 10);
    c.limitWindows!['24h']!.spend = 0.999;
    expect(grantLease(policy, c, { ...request(0.001, 'r3'), holder: 'other' }, NOW, 200)).toBeUndefined();
  });
});

describe('adoptLimitWindows', () => {
  it('takes Postgres\'s spend for the same window where higher, adds new windows, drops removed ones', () => {
    const c = freshCounters(keyPolicy([{ duration: '24h', maxBudget: 1, spend: 0.5, resetAt: DAY_END }, { duration: '7d', maxBudget: 3, spend: 1, resetAt: DAY_END }]), 'UTC');
    adoptLimitWindows(c, keyPolicy([{ duration: '24h', maxBudget: 2, spend: 0.7, resetAt: DAY_END }, { duration: '30d', maxBudget: 9, spend: 6, resetAt: MONTH_END }]));
    expect(c.limitWindows).toEqual({ '24h': { spend: 0.7, resetAt: DAY_END }, '30d': { spend: 6, resetAt: MONTH_END } });
    adoptLimitWindows(c, keyPolicy([{ duration: '24h', maxBudget: 2, spend: 0.1, resetAt: DAY_END }]));
    expect(c.limitWindows).toEqual({ '24h': { spend: 0.7, resetAt: DAY_END } });
    adoptLimitWindows(c, keyPolicy([]));
    expect(c.limitWindows).toBeUndefined();
  });
});

describe('withWindowSpend', () => {
  it('reads a short window from the spend logs, and a long one from its first day\'s and today\'s logs and the rollups between', async () => {
    const queries: { sql: string; params: unknown[] }[] = [];
    const pool = {
      query: async (sql: string, params: unknown[]) => {
        // A key regenerated once: its earlier hash points at this one.
        if (sql.includes('Deprecated')) return { rows: params[0] === 'hash-1' ? [{ token: 'old-hash' }] : [] };
        queries.push({ sql, params });
        return { rows: [{ spend: sql.includes('Daily') ? 10 : 1 }] };
      },
    };
    const policy = keyPolicy([{ duration: '1d', maxBudget: 5, spend: 0, resetAt: DAY_END }, { duration: '7d', maxBudget: 50, spend: 0, resetAt: Date.parse('2026-11-30T00:00:00Z') }]);
    const counted = await withWindowSpend(pool as never, policy, NOW, 'UTC', false);
    expect(counted.budgetLimits?.map((l) => l.spend)).toEqual([1, 12]);
    const fmt = (q: { sql: string; params: unknown[] }) => [q.sql.includes('Daily') ? 'daily' : 'logs', ...q.params.map((p) => (p instanceof Date ? p.toISOString() : p))];
    const ids = ['hash-1', 'old-hash'];
    expect(queries.map(fmt)).toEqual([
      ['logs', ids, '2026-11-25T00:00:00.000Z'],
      ['logs', ids, '2026-11-23T00:00:00.000Z', '2026-11-24T00:00:00.000Z'],
      ['daily', ids, '2026-11-24', '2026-11-25'],
      ['logs', ids, '2026-11-25T00:00:00.000Z'],
    ]);
    expect(queries[0]?.sql).toContain('api_key = ANY($1)');
    // Teams by team_id; with disable_spend_logs, the rollups alone.
    queries.length = 0;
    const team = { ...policy, kind: 'team' as const, id: 'team-1' };
    expect((await withWindowSpend(pool as never, team, NOW, 'UTC', true)).budgetLimits?.map((l) => l.spend)).toEqual([10, 10]);
    expect(queries.every((q) => q.sql.includes('"LiteLLM_DailyTeamSpend"') && q.sql.includes('team_id = ANY($1)') && (q.params[0] as string[]).join() === 'team-1')).toBe(true);
  });
});

describe('a budget already spent', () => {
  it('admits nothing more, zero-cost calls included, as LiteLLM refuses at spend >= max_budget', () => {
    const spent = (maxBudget: number, spend: number) => {
      const policy: EntityPolicy = { ...missingPolicy('key', 'hash-1'), exists: true, keyName: 'sk-...abcd', maxBudget };
      const c = freshCounters(policy, 'UTC');
      c.windowSpend = spend;
      return (estCost: number) => checkAdmission(policy, c, request(estCost), NOW);
    };
    expect(spent(0, 0)(0)).toMatchObject({ type: 'budget_exceeded' });
    expect(spent(1, 1)(0)).toMatchObject({ type: 'budget_exceeded' });
    expect(spent(1, 0.5)(0)).toBeUndefined();
    // Nothing in flight and some budget left: admitted though the estimate does not fit (unchanged).
    expect(spent(1, 0.5)(0.75)).toBeUndefined();
    // A budget_limits window spent to its limit refuses a zero-cost call too.
    const windows = keyPolicy([{ duration: '24h', maxBudget: 1, spend: 1, resetAt: DAY_END }]);
    const c = freshCounters(windows, 'UTC');
    expect(checkAdmission(windows, c, request(0), NOW)).toMatchObject({ type: 'budget_exceeded' });
  });
});
