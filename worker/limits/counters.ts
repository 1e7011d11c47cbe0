import type { Bucket } from './buckets.ts';
import { adoptLimitWindows, closeLimitWindows, freshLimitWindows, spendInWindows } from './budget-limits.ts';
import type { EntityKind } from './entity-kind.ts';
import { now } from './clock.ts';
import type { LeaseReturn } from './leases.ts';
import type { EntityPolicy } from './policy.ts';
import { nextBudgetReset } from './windows.ts';

/** A reservation expires after this, so a request that crashed cannot hold budget forever (LiteLLM's timeout is 600 s). */
export const RESERVATION_TTL_MS = 15 * 60_000;

/** Budget and tokens held for an admitted request (or, with `requests`, a lease) until it settles. */
export interface Reservation {
  cost: number;
  tokens: number;
  model: string;
  expiresAt: number;
  requests?: number;
  /** A lease's: the isolate holding it (AdmitRequest.holder) and the end of its use. */
  holder?: string;
  leaseUntil?: number;
}

/** A `budget_limits` window's spend and end; `reset` once zeroed through the admin API (Postgres's spend no longer applies to it). */
export interface LimitWindow {
  spend: number;
  resetAt: number | null;
  reset?: true;
}

/** One entity's current-window counters, as its limiter object holds and persists them. */
export interface Counters {
  windowSpend: number;
  windowResetAt: number | null;
  requests?: Bucket;
  tokens?: Bucket;
  modelRequests: Record<string, Bucket>;
  modelTokens: Record<string, Bucket>;
  modelSpend: Record<string, { spend: number; resetAt: number | null }>;
  reservations: Record<string, Reservation>;
  /** `budget_limits` windows by duration: spend in the window open now, and its end (budget-limits.ts). */
  limitWindows?: Record<string, LimitWindow>;
}

export interface AdmitRequest {
  kind: EntityKind;
  id: string;
  requestId: string;
  model: string;
  estCost: number;
  estTokens: number;
  /** A zero-cost model: no budget refuses it (rate and parallel limits still do). */
  free?: boolean;
  /** A lease this isolate is done with: what it used of it. */
  returning?: LeaseReturn;
  /** The asking isolate (random, per isolate): it holds at most one live lease of an entity at a time. */
  holder?: string;
  /** The isolate's lease of this entity that ran out (or is about to end): no longer in use, so another may be granted. */
  replacing?: string;
}

export interface Settlement {
  kind: EntityKind;
  id: string;
  requestId: string;
  model: string;
  cost: number;
  tokens: number;
}

/**
 * Counters for an entity just loaded: spend carries over from Postgres while its window is still open,
 * and always under `general_settings.disable_reset_budget` (`keepSpend`), where no window ever ends.
 */
export function freshCounters(policy: EntityPolicy, timeZone: string, keepSpend = false): Counters {
  const t = now();
  const stillOpen = keepSpend || policy.budgetResetAt === null || policy.budgetResetAt > t;
  const counters: Counters = {
    windowSpend: stillOpen ? policy.spend : 0,
    windowResetAt: stillOpen && policy.budgetResetAt !== null ? policy.budgetResetAt : budgetWindowEnd(policy, t, timeZone),
    modelRequests: {}, modelTokens: {}, modelSpend: {}, reservations: {},
  };
  const windows = freshLimitWindows(policy);
  if (windows) counters.limitWindows = windows;
  return counters;
}

export function budgetWindowEnd(policy: EntityPolicy, t: number, timeZone: string): number | null {
  if (!policy.budgetDuration) return null;
  return nextBudgetReset(policy.budgetDuration, new Date(t), timeZone)?.getTime() ?? null;
}

export function modelWindowEnd(policy: EntityPolicy, model: string, t: number, timeZone: string): number | null {
  const period = policy.modelMaxBudget[model]?.time_period;
  return period ? nextBudgetReset(period, new Date(t), timeZone)?.getTime() ?? null : null;
}

/**
 * Closes the budget window if it has ended; true when it did. With `keepSpend`
 * (`general_settings.disable_reset_budget`) it never does: LiteLLM then never resets spend, so
 * an entity over its budget stays refused (its budget_limits windows still roll).
 */
export function closeBudgetWindow(c: Counters, policy: EntityPolicy, t: number, timeZone: string, keepSpend = false): boolean {
  const limitsClosed = c.limitWindows ? closeLimitWindows(c, t, timeZone) : false;
  if (keepSpend || c.windowResetAt === null || t < c.windowResetAt) return limitsClosed;
  c.windowSpend = 0;
  c.windowResetAt = budgetWindowEnd(policy, t, timeZone);
  return true;
}

/** Closes ended model windows and drops reservations that outlived any request. */
export function sweepExpired(c: Counters, policy: EntityPolicy, t: number, timeZone: string): void {
  for (const [model, s] of Object.entries(c.modelSpend)) {
    if (s.resetAt !== null && t >= s.resetAt) c.modelSpend[model] = { spend: 0, resetAt: modelWindowEnd(policy, model, t, timeZone) };
  }
  for (const [id, r] of Object.entries(c.reservations)) {
    if (r.expiresAt <= t) delete c.reservations[id];
  }
}

/** Takes an admitted request's estimate from the buckets and reserves it. */
export function reserve(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number): void {
  // Anything taken from a bucket is reserved too, so that release() can give it back when another entity refuses.
  const needsReservation = policy.maxBudget !== null || policy.maxParallel !== null || policy.tpmLimit !== null || policy.rpmLimit !== null || !!policy.budgetLimits?.length
    || req.model in policy.modelMaxBudget || req.model in policy.modelTpm || req.model in policy.modelRpm;
  if (policy.rpmLimit !== null && c.requests) c.requests.level -= 1;
  if (policy.tpmLimit !== null && c.tokens) c.tokens.level -= req.estTokens;
  const mr = c.modelRequests[req.model];
  if (mr) mr.level -= 1;
  const mt = c.modelTokens[req.model];
  if (mt) mt.level -= req.estTokens;
  if (needsReservation) c.reservations[req.requestId] = { cost: req.estCost, tokens: req.estTokens, model: req.model, expiresAt: t + RESERVATION_TTL_MS };
}

/** The actual cost and tokens replace the reservation. */
export function settleReservation(c: Counters, policy: EntityPolicy, s: Settlement, t: number, timeZone: string): void {
  const r = c.reservations[s.requestId];
  delete c.reservations[s.requestId];
  c.windowSpend += Math.max(0, s.cost);
  spendInWindows(c, s.cost);
  const ms = (c.modelSpend[s.model] ??= { spend: 0, resetAt: modelWindowEnd(policy, s.model, t, timeZone) });
  ms.spend += Math.max(0, s.cost);
  // Tokens were taken from the buckets at the estimate; put back (or take) the difference.
  const delta = (r?.tokens ?? 0) - Math.max(0, s.tokens);
  if (policy.tpmLimit && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + delta);
  const modelTpm = policy.modelTpm[s.model];
  const mt = c.modelTokens[s.model];
  if (modelTpm && mt) mt.level = Math.min(modelTpm, mt.level + delta);
}

/**
 * How long after it was created work that ran without an admission (a batch, a background response)
 * is still billed: providers keep its output 30 days. The limiters remember a billed id a day longer.
 */
export const LATER_WORK_BILLED_FOR_MS = 30 * 86_400_000;

/** Gives back what an admission took; false when there was no reservation to undo. */
export function releaseReservation(c: Counters, policy: EntityPolicy, requestId: string): boolean {
  const r = c.reservations[requestId];
  if (!r) return false;
  delete c.reservations[requestId];
  if (policy.rpmLimit && c.requests) c.requests.level = Math.min(policy.rpmLimit, c.requests.level + 1);
  if (policy.tpmLimit && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + r.tokens);
  const mr = c.modelRequests[r.model];
  const modelRpm = policy.modelRpm[r.model];
  if (mr && modelRpm) mr.level = Math.min(modelRpm, mr.level + 1);
  const mt = c.modelTokens[r.model];
  const modelTpm = policy.modelTpm[r.model];
  if (mt && modelTpm) mt.level = Math.min(modelTpm, mt.level + r.tokens);
  return true;
}

/** Brings the counters in line with a policy re-read from Postgres. */
export function adoptPolicy(c: Counters, old: EntityPolicy | undefined, fresh: EntityPolicy, timeZone: string): void {
  // A new budget period (or a reset through the admin API) starts a new window.
  if (fresh.budgetDuration !== old?.budgetDuration || (fresh.budgetResetAt ?? 0) > (c.windowResetAt ?? 0)) {
    c.windowResetAt = fresh.budgetResetAt ?? budgetWindowEnd(fresh, now(), timeZone);
    if (fresh.spend < c.windowSpend && fresh.budgetResetAt !== old?.budgetResetAt) c.windowSpend = fresh.spend;
  } else if (fresh.spend > c.windowSpend && (fresh.budgetResetAt ?? null) === c.windowResetAt) {
    // Postgres (written from the spend logs) knows of spend in this same window that this object
    // missed: a lease whose isolate died before returning it.
    c.windowSpend = fresh.spend;
  }
  if (fresh.budgetLimits?.length || c.limitWindows) adoptLimitWindows(c, fresh);
}
