import type { Pool } from '@neondatabase/serverless';
import type { AdmitRequest, Counters } from './counters.ts';
import type { EntityPolicy } from './policy.ts';
import { budgetExceeded, KIND_LABEL, type Refusal } from './refusals.ts';
import { budgetWindowStart, durationSeconds, nextBudgetReset } from './windows.ts';

/**
 * LiteLLM's `budget_limits` on keys and teams: several budgets at once, each
 * over its own window (`[{budget_duration: "24h", max_budget: 10},
 * {budget_duration: "30d", max_budget: 100}]`). Every call's cost counts in
 * each window; a call is refused while any window is spent, as the single
 * `max_budget` refuses it. Windows end on the same calendar boundaries as
 * `budget_duration` (next midnight, Monday, the 1st; other durations that long
 * after the window began), and each is counted on its own.
 */
export interface BudgetLimit {
  duration: string;
  maxBudget: number;
  /** Spend in the window open now, as Postgres has it (the spend logs and daily rollups). */
  spend: number;
  /** Epoch ms of the window's end. */
  resetAt: number | null;
}

/** The `budget_limits` column as stored (a JSON array, or its text): well-formed entries only. */
export function parseBudgetLimits(value: unknown, t: number, timeZone: string): BudgetLimit[] {
  let entries = value;
  if (typeof entries === 'string') {
    try {
      entries = JSON.parse(entries);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(entries)) return [];
  const limits: BudgetLimit[] = [];
  for (const e of entries as { budget_duration?: unknown; max_budget?: unknown; reset_at?: unknown }[]) {
    const duration = typeof e?.budget_duration === 'string' ? e.budget_duration.trim() : '';
    const maxBudget = Number(e?.max_budget);
    if (!duration || !durationSeconds(duration) || e?.max_budget === null || !Number.isFinite(maxBudget) || maxBudget < 0) continue;
    if (limits.some((l) => l.duration === duration)) continue;
    limits.push({ duration, maxBudget, spend: 0, resetAt: currentWindowEnd(duration, e.reset_at, t, timeZone) });
  }
  return limits;
}

/**
 * The end of a window open at `t`: its stored end while that is still ahead (it fixes when a window of a
 * plain duration, e.g. 2h, began), else the next boundary. The admin API shows the same (`reset_at`).
 */
export function currentWindowEnd(duration: string, storedResetAt: unknown, t: number, timeZone: string): number | null {
  const stored = typeof storedResetAt === 'string' ? Date.parse(storedResetAt) : Number.NaN;
  return Number.isFinite(stored) && stored > t ? stored : nextBudgetReset(duration, new Date(t), timeZone)?.getTime() ?? null;
}

/** When the window ending at `resetAt` began. */
function windowStart(limit: BudgetLimit, t: number, timeZone: string): Date {
  const calendar = budgetWindowStart(limit.duration, new Date(t), timeZone);
  const seconds = durationSeconds(limit.duration) ?? 0;
  const aligned = nextBudgetReset(limit.duration, new Date(t), timeZone)?.getTime();
  // Calendar windows (1d, 7d, 30d, ...) began at the boundary before now; others `duration` before their end.
  if (calendar && aligned === limit.resetAt) return calendar;
  return new Date((limit.resetAt ?? t) - seconds * 1000);
}

const DAY_MS = 86_400_000;
const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Each window's spend so far, from what Postgres has: the spend-log rows of a
 * short window; for a long one, the rows of its first and its last (current)
 * UTC day and the daily rollups of the days between. With `disable_spend_logs`
 * only the rollups, the first day counted whole (which can only make a budget
 * stricter).
 */
export async function withWindowSpend(pool: Pick<Pool, 'query'>, policy: EntityPolicy, t: number, timeZone: string, disableSpendLogs: boolean): Promise<EntityPolicy> {
  const limits = policy.budgetLimits;
  if (!limits?.length || (policy.kind !== 'key' && policy.kind !== 'team')) return policy;
  const column = policy.kind === 'key' ? 'api_key' : 'team_id';
  const daily = policy.kind === 'key' ? '"LiteLLM_DailyKeySpend"' : '"LiteLLM_DailyTeamSpend"';
  // A regenerated key spent under its earlier hashes too (LiteLLM_DeprecatedVerificationToken points them at this one).
  const ids = policy.kind === 'key'
    ? [policy.id, ...(await pool.query<{ token: string }>('SELECT token FROM "LiteLLM_DeprecatedVerificationToken" WHERE active_token_id = $1', [policy.id])).rows.map((r) => r.token)]
    : [policy.id];
  const sum = async (sql: string, params: unknown[]) => Number((await pool.query<{ spend: number | string | null }>(sql, params)).rows[0]?.spend ?? 0);
  const logs = (from: Date, to?: Date) => sum(
    `SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_SpendLogs" WHERE ${column} = ANY($1) AND "startTime" >= $2${to ? ' AND "startTime" < $3' : ''}`,
    to ? [ids, from, to] : [ids, from],
  );
  const days = (from: string, to?: string) => sum(
    `SELECT COALESCE(SUM(spend), 0) AS spend FROM ${daily} WHERE ${column} = ANY($1) AND date >= $2${to ? ' AND date < $3' : ''}`,
    to ? [ids, from, to] : [ids, from],
  );
  const today = new Date(Math.floor(t / DAY_MS) * DAY_MS);
  const counted = await Promise.all(limits.map(async (limit) => {
    const start = windowStart(limit, t, timeZone);
    if (disableSpendLogs) return { ...limit, spend: await days(utcDay(start)) };
    if (start >= today) return { ...limit, spend: await logs(start) };
    const firstDayEnd = new Date((Math.floor(start.getTime() / DAY_MS) + 1) * DAY_MS);
    const [first, between, last] = await Promise.all([logs(start, firstDayEnd), days(utcDay(firstDayEnd), utcDay(today)), logs(today)]);
    return { ...limit, spend: first + between + last };
  }));
  return { ...policy, budgetLimits: counted };
}

/** Counters for the windows of a policy just loaded: spend carries over from Postgres. */
export function freshLimitWindows(policy: EntityPolicy): Counters['limitWindows'] {
  if (!policy.budgetLimits?.length) return undefined;
  return Object.fromEntries(policy.budgetLimits.map((l) => [l.duration, { spend: l.spend, resetAt: l.resetAt }]));
}

/** Closes windows that have ended (a new one begins at 0); true when any did. */
export function closeLimitWindows(c: Counters, t: number, timeZone: string): boolean {
  let closed = false;
  for (const [duration, w] of Object.entries(c.limitWindows ?? {})) {
    if (w.resetAt === null || t < w.resetAt) continue;
    w.spend = 0;
    w.resetAt = nextBudgetReset(duration, new Date(t), timeZone)?.getTime() ?? null;
    delete w.reset;
    closed = true;
  }
  return closed;
}

/** The first spent window ("Budget has been exceeded! Key over 24h budget: Key=... Current cost: 6, Max budget: 5"), or undefined. */
export function limitRefusal(policy: EntityPolicy, c: Counters, req: AdmitRequest, held: number, inFlight: boolean, label: string): Refusal | undefined {
  if (req.free) return undefined;
  for (const limit of policy.budgetLimits ?? []) {
    const w = c.limitWindows?.[limit.duration];
    const spent = w?.spend ?? 0;
    if (spent < limit.maxBudget && (spent + held + req.estCost <= limit.maxBudget || !inFlight)) continue;
    const refusal = budgetExceeded(policy.kind, label, spent, limit.maxBudget, w?.resetAt ?? null);
    const kind = KIND_LABEL[policy.kind];
    return { ...refusal, message: refusal.message.replace('Budget has been exceeded! ', `Budget has been exceeded! ${kind} over ${limit.duration} budget: `) };
  }
  return undefined;
}

/** A settled call's (or a returned lease's) cost counts in every window. */
export function spendInWindows(c: Pick<Counters, 'limitWindows'>, cost: number): void {
  for (const w of Object.values(c.limitWindows ?? {})) w.spend += Math.max(0, cost);
}

/** The most a lease may take: a share of what is left of the tightest window (Infinity without windows). */
export function limitRoom(policy: EntityPolicy, c: Counters, held: number): number {
  let room = Number.POSITIVE_INFINITY;
  for (const limit of policy.budgetLimits ?? []) room = Math.min(room, limit.maxBudget - (c.limitWindows?.[limit.duration]?.spend ?? 0) - held);
  return room;
}

/**
 * The windows of a policy re-read from Postgres: new ones start from what Postgres has, gone ones
 * are dropped, and the same window takes Postgres's spend where it is higher (spend this object
 * missed: a lease whose isolate died before returning it).
 */
export function adoptLimitWindows(c: Counters, fresh: EntityPolicy): void {
  if (!fresh.budgetLimits?.length) {
    delete c.limitWindows;
    return;
  }
  const windows: NonNullable<Counters['limitWindows']> = {};
  for (const limit of fresh.budgetLimits) {
    const known = c.limitWindows?.[limit.duration];
    // The object's own count of a window it has open stands (it rolls windows itself); Postgres's only adds missed
    // spend, and not to a window reset through the admin API (the spend logs still hold what was spent before).
    windows[limit.duration] = !known ? { spend: limit.spend, resetAt: limit.resetAt }
      : known.resetAt === limit.resetAt && !known.reset ? { spend: Math.max(known.spend, limit.spend), resetAt: known.resetAt }
      : known;
  }
  c.limitWindows = windows;
}
