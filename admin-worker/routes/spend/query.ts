/**
 * Query parameters and SQL building blocks shared by the spend routes. Days
 * are UTC calendar days; a range's end date is included (LiteLLM compares
 * with midnight of the end date, which leaves that day out).
 */
import { z } from 'zod';
import { hashKey } from '../../../worker/auth/secrets.ts';
import { bool, nonNegative, posInt } from '../../../worker/config/fields.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { callerUserId, isAdminReader } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { badRequest } from '../../lib/validation.ts';

const DAY_MS = 86_400_000;

export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a calendar date');

const keyParam = z.string().min(1).describe('a virtual key (sk-...) or its SHA-256 hash');

export const spendLogsQuery = z.object({
  request_id: z.string().min(1).optional(),
  api_key: keyParam.optional(),
  user_id: z.string().min(1).optional(),
  start_date: isoDate.optional(),
  end_date: isoDate.optional(),
  summarize: bool.optional().describe('with start_date and end_date: true (default, as LiteLLM) gives spend per day, false the rows'),
  limit: posInt.pipe(z.number().min(1).max(10_000)).optional().describe('rows at most, newest first (default 1000)'),
});

/** LiteLLM's UI sends date-times as `YYYY-MM-DD HH:MM:SS`, in UTC. */
const uiDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/, 'expected a date-time as "YYYY-MM-DD HH:MM:SS" (UTC)')
  .refine((s) => isoDate.safeParse(s.slice(0, 10)).success && !Number.isNaN(Date.parse(`${s.replace(' ', 'T')}Z`)), 'not a calendar date-time');

/** A `YYYY-MM-DD HH:MM:SS` of uiDateTime as the instant it names (UTC). */
const utcInstant = (s: string) => new Date(`${s.replace(' ', 'T')}Z`);

/** A `YYYY-MM-DD HH:MM:SS` (UTC) instant, or a day taken whole (`YYYY-MM-DD`). */
const uiDateTimeOrDay = z.string()
  .refine((s) => (s.length === 10 ? isoDate : uiDateTime).safeParse(s).success, 'expected "YYYY-MM-DD HH:MM:SS" (UTC) or a day, YYYY-MM-DD');

/** The instants a spend-log page's dates name: a day starts at its midnight and ends at the next (excluded). */
export function uiRange(start: string, end: string): { from: Date; to: Date; toIncluded: boolean } {
  const day = (s: string) => s.length === 10;
  return {
    from: day(start) ? new Date(`${start}T00:00:00Z`) : utcInstant(start),
    to: day(end) ? new Date(Date.parse(`${end}T00:00:00Z`) + DAY_MS) : utcInstant(end),
    toIncluded: !day(end),
  };
}

/** `/spend/logs/ui` and `/spend/logs/v2` (the admin UI's logs page, and what tools read rows with). */
export const spendLogsUiQuery = z.object({
  start_date: uiDateTimeOrDay.optional(),
  end_date: uiDateTimeOrDay.optional(),
  api_key: keyParam.optional(),
  user_id: z.string().min(1).optional(),
  request_id: z.string().min(1).optional(),
  session_id: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  min_spend: nonNegative.optional(),
  max_spend: nonNegative.optional(),
  status_filter: z.enum(['success', 'failure']).optional(),
  model: z.string().min(1).optional().describe('the model group called or the provider model that served'),
  model_id: z.string().min(1).optional(),
  key_alias: z.string().min(1).optional(),
  end_user: z.string().min(1).optional(),
  error_code: z.string().min(1).optional().describe('the HTTP status of a failed call (429, 500, ...)'),
  error_message: z.string().min(1).max(500).optional().describe('part of a failed call\'s error message, any case'),
  exclude_internal_health_checks: bool.optional().describe('health checks write no spend-log rows here: nothing to exclude'),
  page: posInt.pipe(z.number().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000')).default(1),
  page_size: posInt.pipe(z.number().min(1, 'must be at least 1').max(100, 'must be at most 100')).default(50),
});

export const reportQuery = z.object({
  start_date: isoDate.optional(),
  end_date: isoDate.optional(),
  group_by: z.enum(['team', 'customer', 'api_key', 'key', 'model', 'day']).default('team'),
  api_key: keyParam.optional(),
  internal_user_id: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  customer_id: z.string().min(1).optional(),
});

export const teamsQuery = z.object({ start_date: isoDate.optional(), end_date: isoDate.optional() });

export const spendUsersQuery = z.object({ user_id: z.string().min(1).optional() });

export const topModelsQuery = z.object({ limit: posInt.pipe(z.number().min(1, 'must be greater than 0').max(1000)).optional() });

export const keysQuery = z.object({
  limit: posInt.pipe(z.number().min(1, 'must be greater than 0').max(10_000)).optional(),
  start_date: isoDate.optional(),
  end_date: isoDate.optional(),
});

/**
 * Whose spend rows a caller reads: every row (proxy admins and viewers), its user's (a key with a user,
 * as LiteLLM scopes its internal users), else its own key's.
 */
export type ReaderScope = { all: true } | { userId: string } | { token: string };

export function readerScope(c: AdminContext): ReaderScope {
  if (isAdminReader(c)) return { all: true };
  const userId = callerUserId(c);
  return userId ? { userId } : { token: c.get('caller').token };
}

/** A 403 for a caller asking for rows outside its scope. */
export function outsideScope(what: string, param: string): GatewayError {
  return new GatewayError(`You can only view the ${what}.`, { status: 403, type: 'auth_error', param });
}

/** LiteLLM's api_key parameters take the key itself or its hash. */
export async function keyHash(value: string): Promise<string> {
  return value.startsWith('sk-') ? hashKey(value) : value;
}

export interface DayRange {
  /** Inclusive. */
  from: Date;
  /** Exclusive: midnight after the end date. */
  to: Date;
}

/** [start 00:00, end + 1 day 00:00) in UTC; a 400 when the range is backwards. */
export function dayRange(start: string, end: string): DayRange {
  const from = new Date(`${start}T00:00:00Z`);
  const to = new Date(Date.parse(`${end}T00:00:00Z`) + DAY_MS);
  if (to <= from) throw badRequest('end_date must not be before start_date', 'end_date');
  return { from, to };
}

/** The range given, else the last 30 days and today (LiteLLM's views cover 30 days). */
export function rangeOrLast30Days(start: string | undefined, end: string | undefined): DayRange {
  const today = new Date().toISOString().slice(0, 10);
  const endDay = end ?? today;
  const startDay = start ?? new Date(Date.parse(`${endDay}T00:00:00Z`) - 30 * DAY_MS).toISOString().slice(0, 10);
  return dayRange(startDay, endDay);
}

/** Every day of a range, as YYYY-MM-DD. */
export function daysOf(range: DayRange): string[] {
  const days: string[] = [];
  for (let t = range.from.getTime(); t < range.to.getTime() && days.length <= 3660; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** `WHERE` clauses with numbered parameters, built up condition by condition. */
export class Where {
  readonly args: unknown[] = [];
  readonly #clauses: string[] = [];

  /** `clause` with `?` standing for the value's parameter. */
  add(clause: string, value: unknown): this {
    this.args.push(value);
    this.#clauses.push(clause.replace('?', `$${this.args.length}`));
    return this;
  }

  range(column: string, range: DayRange | undefined): this {
    if (!range) return this;
    return this.add(`${column} >= ?`, range.from).add(`${column} < ?`, range.to);
  }

  toString(): string {
    return this.#clauses.length ? `WHERE ${this.#clauses.join(' AND ')}` : '';
  }
}

/** A UTC day of "startTime" as YYYY-MM-DD, in SQL. */
export const DAY_SQL = `to_char(s."startTime" AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
