import { describe, expect, it } from 'vitest';
import { durationSeconds, nextBudgetReset } from './windows.ts';

describe('durationSeconds', () => {
  it('reads LiteLLM durations', () => {
    expect(durationSeconds('30s')).toBe(30);
    expect(durationSeconds('30m')).toBe(1800);
    expect(durationSeconds('30h')).toBe(108_000);
    expect(durationSeconds('30d')).toBe(2_592_000);
    expect(durationSeconds('1w')).toBe(604_800);
    expect(durationSeconds('1mo')).toBe(2_592_000);
    expect(durationSeconds('soon')).toBeUndefined();
  });
});

describe('budgetWindowStart', () => {
  it('finds the start of the window open now', async () => {
    const { budgetWindowStart } = await import('./windows.ts');
    const now = new Date('2026-11-25T15:30:00Z');
    expect(budgetWindowStart('1d', now)?.toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(budgetWindowStart('7d', now)?.toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(budgetWindowStart('30d', now)?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(budgetWindowStart('30d', now, 'Asia/Dubai')?.toISOString()).toBe('2026-10-31T20:00:00.000Z');
    expect(budgetWindowStart('2h', now)?.toISOString()).toBe('2026-11-25T13:30:00.000Z');
  });
});

describe('nextBudgetReset', () => {
  const now = new Date('2026-11-25T15:30:00Z'); // a Wednesday

  it('aligns daily budgets to midnight, weekly to Monday, monthly to the 1st (UTC)', () => {
    expect(nextBudgetReset('1d', now)?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(nextBudgetReset('24h', now)?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(nextBudgetReset('7d', now)?.toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(nextBudgetReset('30d', now)?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(nextBudgetReset('1mo', new Date('2026-12-31T23:59:59Z'))?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('aligns in the configured time zone', () => {
    // 15:30 UTC is 19:30 in Dubai (UTC+4): the next Dubai midnight is 20:00 UTC.
    expect(nextBudgetReset('1d', now, 'Asia/Dubai')?.toISOString()).toBe('2026-11-25T20:00:00.000Z');
    // New York is UTC-5 in November: next 1st at local midnight is 05:00 UTC.
    expect(nextBudgetReset('30d', now, 'America/New_York')?.toISOString()).toBe('2026-12-01T05:00:00.000Z');
  });

  it('gives a weekly reset a full week when asked on a Monday', () => {
    expect(nextBudgetReset('7d', new Date('2026-11-30T10:00:00Z'))?.toISOString()).toBe('2026-12-07T00:00:00.000Z');
  });

  it('runs other durations from now', () => {
    expect(nextBudgetReset('30s', now)?.toISOString()).toBe('2026-11-25T15:30:30.000Z');
    expect(nextBudgetReset('2h', now)?.toISOString()).toBe('2026-11-25T17:30:00.000Z');
  });
});
