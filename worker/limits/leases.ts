import { limitRoom, spendInWindows } from './budget-limits.ts';
import { type AdmitRequest, type Counters, RESERVATION_TTL_MS } from './counters.ts';
import { budgetCap, type EntityPolicy } from './policy.ts';

/**
 * A slice of an entity's limits handed to one isolate, spent there without
 * asking the object, for entities hotter than one object should serve
 * request by request. Its size is at most a tenth of what is left of every
 * limit, and it lives LEASE_MS: that bounds both the overshoot and how late a
 * block is seen (see README, "Limits").
 */
export interface LeaseGrant {
  leaseId: string;
  requests: number;
  tokens: number;
  cost: number;
  expiresAt: number;
}

export interface LeaseReturn {
  leaseId: string;
  requests: number;
  tokens: number;
  cost: number;
  /**
   * A lease retired while requests admitted under it still run (a long stream's): the estimates they
   * hold, which stay reserved until the rest of the lease comes back (with what they used beyond what
   * this return said). Without it, the whole lease is back.
   */
  pending?: { cost: number; tokens: number };
}

/** An entity is hot above this many admissions a second; only then does it hand out leases. */
export const HOT_RPS = 50;
export const LEASE_MS = 1_000;
/** Requests per lease of the proxy-wide cap (it has no request limit; only its budget share bounds a lease). */
const GLOBAL_LEASE_REQUESTS = 10_000;
/** A lease never takes more than this share of what is left of a limit. */
const LEASE_SHARE = 0.1;

/**
 * Admissions per second: the last whole second's count, or this second's so
 * far if higher. Requests admitted under a lease count too, when the lease
 * comes back: an entity kept hot by its leases must stay hot, or its next
 * lease would shrink to nothing and every request would come back here.
 */
export class AdmissionRate {
  #second = 0;
  #inSecond = 0;
  #rate = 0;

  count(t: number, admissions = 1): void {
    const second = Math.floor(t / 1000);
    if (second !== this.#second) {
      this.#rate = second === this.#second + 1 ? this.#inSecond : 0;
      this.#second = second;
      this.#inSecond = 0;
    }
    this.#inSecond += admissions;
  }

  current(): number {
    return Math.max(this.#rate, this.#inSecond);
  }
}

/**
 * Leases go only to hot entities whose limits are loose enough that a tenth
 * of what is left covers a lease. A lease granted is taken from `c` (buckets
 * and a reservation) here.
 */
export function grantLease(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number, rate: number): LeaseGrant | undefined {
  // The proxy-wide cap is one object for the whole deployment: it always leases, so it never sees every request.
  if (rate < HOT_RPS && policy.kind !== 'global') return undefined;
  if (policy.maxParallel !== null || Object.keys(policy.modelRpm).length || Object.keys(policy.modelTpm).length || Object.keys(policy.modelMaxBudget).length) return undefined;
  // An isolate holds one lease in use at a time: its requests in flight when the lease ran out all ask at
  // once, and the first gets the next lease while the rest are admitted one by one.
  const replaced = req.replacing ? c.reservations[req.replacing] : undefined;
  if (replaced && replaced.holder === req.holder) replaced.leaseUntil = t;
  if (req.holder && Object.values(c.reservations).some((r) => r.holder === req.holder && (r.leaseUntil ?? 0) > t)) return undefined;
  // Enough for this isolate's share of a second of traffic; the object sees at most a few calls a second per isolate.
  let requests = policy.kind === 'global' ? GLOBAL_LEASE_REQUESTS : Math.ceil((rate * LEASE_MS) / 1000 / 2);
  let tokens = requests * Math.max(1, req.estTokens);
  let cost = requests * req.estCost;
  if (policy.rpmLimit !== null) requests = Math.min(requests, Math.floor((c.requests?.level ?? 0) * LEASE_SHARE));
  if (policy.tpmLimit !== null) tokens = Math.min(tokens, Math.floor((c.tokens?.level ?? 0) * LEASE_SHARE));
  const cap = budgetCap(policy, t);
  const windows = policy.budgetLimits?.length && !req.free;
  const held = cap !== null || windows ? Object.values(c.reservations).reduce((sum, r) => sum + r.cost, 0) : 0;
  if (cap !== null) cost = Math.min(cost, (cap - c.windowSpend - held) * LEASE_SHARE);
  if (windows) cost = Math.min(cost, limitRoom(policy, c, held) * LEASE_SHARE);
  if (requests < 2 || tokens < req.estTokens || cost < req.estCost) return undefined;
  const leaseId = `lease-${crypto.randomUUID()}`;
  if (policy.rpmLimit !== null && c.requests) c.requests.level -= requests;
  if (policy.tpmLimit !== null && c.tokens) c.tokens.level -= tokens;
  c.reservations[leaseId] = { cost, tokens, requests, model: req.model, expiresAt: t + LEASE_MS * 3, leaseUntil: t + LEASE_MS, ...(req.holder ? { holder: req.holder } : {}) };
  return { leaseId, requests, tokens, cost, expiresAt: t + LEASE_MS };
}

/**
 * What an isolate used of a lease becomes spend; what it did not use goes back to the buckets. A lease
 * coming back in part (`pending`) keeps its running requests' estimates reserved, as long as a
 * request's reservation lasts, so the next leases are not sized on room those requests will spend.
 */
export function takeBackLease(c: Counters, policy: EntityPolicy, back: LeaseReturn, t = Date.now()): void {
  const held = c.reservations[back.leaseId];
  delete c.reservations[back.leaseId];
  c.windowSpend += Math.max(0, back.cost);
  spendInWindows(c, back.cost);
  if (held && back.pending) {
    const pending = { cost: Math.max(0, back.pending.cost), tokens: Math.max(0, back.pending.tokens) };
    if (policy.tpmLimit !== null && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + held.tokens - back.tokens - pending.tokens);
    if (policy.rpmLimit !== null && c.requests) c.requests.level = Math.min(policy.rpmLimit, c.requests.level + (held.requests ?? 0) - back.requests);
    c.reservations[back.leaseId] = { ...held, ...pending, requests: 0, expiresAt: t + RESERVATION_TTL_MS };
    return;
  }
  if (held) {
    if (policy.tpmLimit !== null && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + held.tokens - back.tokens);
    if (policy.rpmLimit !== null && c.requests) c.requests.level = Math.min(policy.rpmLimit, c.requests.level + (held.requests ?? 0) - back.requests);
  } else if (policy.tpmLimit !== null && c.tokens) {
    c.tokens.level -= back.tokens;
  }
}
