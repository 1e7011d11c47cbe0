import { describe, expect, it } from 'vitest';
import { freshCounters, RESERVATION_TTL_MS, sweepExpired } from './counters.ts';
import { checkAdmission } from './entity-check.ts';
import type { LeaseReturn } from './leases.ts';
import { grantLease, takeBackLease } from './leases.ts';
import { type LocalLease, nextReturn } from './lease-return.ts';
import { type EntityPolicy, missingPolicy } from './policy.ts';
import type { EntityView } from './entity-view.ts';

const NOW = Date.parse('2026-11-25T15:30:00Z');
const policy: EntityPolicy = { ...missingPolicy('key', 'hash-1'), exists: true, maxBudget: 100, rpmLimit: 100_000, tpmLimit: 10_000_000 };
const request = (holder: string) => ({ kind: 'key' as const, id: 'hash-1', requestId: `r-${holder}`, model: 'gpt', estCost: 0.01, estTokens: 10, holder });

describe('a lease that comes back while its requests still run', () => {
  it('keeps only their estimates reserved, as long as a request\'s reservation lasts, and settles the rest when they end', () => {
    const c = freshCounters(policy, 'UTC');
    // As the object admits: the buckets are filled to now, then the lease is taken from them.
    expect(checkAdmission(policy, c, request('a'), NOW)).toBeUndefined();
    const grant = grantLease(policy, c, request('a'), NOW, 200)!;
    expect(grant.cost).toBeGreaterThan(0.3);
    const tokensAfterGrant = c.tokens!.level;
    expect(c.reservations[grant.leaseId]).toMatchObject({ cost: grant.cost, tokens: grant.tokens, requests: grant.requests });
    // 40 requests admitted under it; 30 settled (0.25 spent, 280 tokens), 10 still running (their estimates: 0.1, 100 tokens).
    takeBackLease(c, policy, { leaseId: grant.leaseId, requests: 40, tokens: 280, cost: 0.25, pending: { cost: 0.1, tokens: 100 } }, NOW + 1_000);
    expect(c.windowSpend).toBeCloseTo(0.25, 10);
    expect(c.reservations[grant.leaseId]).toMatchObject({ cost: 0.1, tokens: 100, requests: 0, expiresAt: NOW + 1_000 + RESERVATION_TTL_MS });
    expect(c.tokens!.level).toBe(tokensAfterGrant + grant.tokens - 280 - 100);
    // A minute on (the running requests are long streams), still held: the next lease is sized on what is left after them.
    sweepExpired(c, policy, NOW + 61_000, 'UTC');
    expect(c.reservations[grant.leaseId]?.cost).toBeCloseTo(0.1, 10);
    // They end: what they used beyond the first part comes back, and nothing more is held.
    takeBackLease(c, policy, { leaseId: grant.leaseId, requests: 0, tokens: 90, cost: 0.12 }, NOW + 62_000);
    expect(c.windowSpend).toBeCloseTo(0.37, 10);
    expect(c.reservations[grant.leaseId]).toBeUndefined();
    expect(c.tokens!.level).toBe(tokensAfterGrant + grant.tokens - 280 - 90);
  });
});

describe('nextReturn (the isolate\'s side)', () => {
  it('returns a retired lease at once but for its running requests\' estimates, and the rest once they settle', () => {
    // 3 admitted (estimates 0.01 and 10 tokens each), 1 settled at 0.02 and 12 tokens, 2 running.
    const lease: LocalLease = {
      target: { kind: 'key', id: 'hash-1' }, grant: { leaseId: 'lease-1', requests: 50, tokens: 500, cost: 0.5, expiresAt: NOW + 1_000 }, view: {} as EntityView,
      left: { requests: 47, tokens: 470 - 2, cost: 0.47 - 0.01 }, used: { requests: 3, tokens: 12, cost: 0.02 }, inFlight: 2, retired: false,
    };
    expect(nextReturn(lease)).toBeUndefined(); // not retired yet
    lease.retired = true;
    const first = nextReturn(lease);
    expect(first).toMatchObject({ leaseId: 'lease-1', requests: 3, tokens: 12, cost: 0.02, pending: { tokens: 20 } });
    expect(first?.pending?.cost).toBeCloseTo(0.02, 10);
    expect(nextReturn(lease)).toBeUndefined(); // still running: nothing more
    // The two settle (0.05 and 30 tokens between them): the rest goes back, once.
    Object.assign(lease, { used: { requests: 3, tokens: 42, cost: 0.07 }, inFlight: 0 });
    const rest = nextReturn(lease);
    expect(rest).toMatchObject({ leaseId: 'lease-1', requests: 0, tokens: 30 });
    expect(rest?.cost).toBeCloseTo(0.05, 10);
    expect(rest?.pending).toBeUndefined();
    expect(nextReturn(lease)).toBeUndefined();
  });

  it('returns a lease retired with nothing running whole, in one part', () => {
    const lease: LocalLease = {
      target: { kind: 'key', id: 'hash-1' }, grant: { leaseId: 'lease-2', requests: 50, tokens: 500, cost: 0.5, expiresAt: NOW + 1_000 }, view: {} as EntityView,
      left: { requests: 45, tokens: 450, cost: 0.45 }, used: { requests: 5, tokens: 40, cost: 0.04 }, inFlight: 0, retired: true,
    };
    expect(nextReturn(lease)).toEqual({ leaseId: 'lease-2', requests: 5, tokens: 40, cost: 0.04 });
    expect(nextReturn(lease)).toBeUndefined();
  });
});
