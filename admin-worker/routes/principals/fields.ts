/**
 * zod building blocks shared by the principals routes. Wrong types are 422s
 * naming the field (parseBody); negative money is LiteLLM's 400, checked
 * after parsing by `assertNonNegative`, except inside `budget_limits`, whose
 * entries are checked whole here (a 422 naming `budget_limits.<i>.<field>`).
 */
import { z } from 'zod';
import { DURATION } from '../../../worker/config/fields.ts';
import { durationSeconds } from '../../../worker/limits/windows.ts';
import { badRequest } from '../../lib/validation.ts';
import { MASTER_CREATOR, RESERVED_USER_ID_MESSAGE } from '../../../worker/auth/delegation.ts';

export const text = z.string({ error: 'expected a string' });
export const id = text.min(1, 'must not be empty').max(256, 'at most 256 characters');
export const money = z.number({ error: 'expected a number' }).refine(Number.isFinite, 'expected a finite number');
export const limit = z.number({ error: 'expected a whole number' }).int('expected a whole number').min(0, 'must not be negative');
export const duration = text.regex(DURATION, 'expected a duration like "30s", "30m", "30h", "30d", "1w" or "1mo"');
export const stringList = z.array(text, { error: 'expected a list of strings' });
export const idList = z.array(id, { error: 'expected a list of ids' });
export const jsonObject = z.record(text, z.unknown(), { error: 'expected an object' });
export const modelLimits = z.record(text, limit, { error: 'expected {"<model>": <whole number>}' });
export const flag = z.boolean({ error: 'expected true or false' });
/** An ISO 8601 date-time, stored as a timestamp. */
export const dateTime = text
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date-time')
  .transform((s) => new Date(s));

/** More windows than anyone sets by hand; each costs the limiter a spend query when it loads the entity. */
export const MAX_BUDGET_LIMITS = 10;
/** The longest window: ten years (a longer one's end would soon be past what a Date holds). */
const MAX_WINDOW_SECONDS = 3650 * 86_400;

/**
 * One of LiteLLM's `budget_limits` windows. A `reset_at` the client sends is
 * dropped: the server sets it (admin-worker/lib/budget-limits.ts).
 */
export const budgetLimit = z.object({
  // A zero-length window could never be spent in nor reset.
  budget_duration: duration
    .refine((d) => durationSeconds(d) !== 0, 'must be longer than 0')
    .refine((d) => (durationSeconds(d) ?? 0) <= MAX_WINDOW_SECONDS, 'must be at most 10 years (3650d)'),
  max_budget: money.refine((n) => n >= 0, 'must not be negative'),
}, { error: 'expected {"budget_duration": "<duration>", "max_budget": <number>}' });

/** Durations nextBudgetReset aligns to the same calendar boundary: one window under two names. */
const CALENDAR_WINDOWS: Record<string, string> = { '1d': 'day', '24h': 'day', '7d': 'week', '1w': 'week', '30d': 'month', '1mo': 'month' };
const windowOf = (duration: string) => CALENDAR_WINDOWS[duration] ?? `${durationSeconds(duration)}s`;

/** `budget_limits`: at most MAX_BUDGET_LIMITS windows, no two the same (`null` clears the list on update). */
export const budgetLimits = z.array(budgetLimit, { error: 'expected a list of {"budget_duration", "max_budget"}' })
  .max(MAX_BUDGET_LIMITS, `at most ${MAX_BUDGET_LIMITS} budget limits`)
  .superRefine((list, ctx) => {
    const seen = new Map<string, string>();
    list.forEach((entry, i) => {
      if (typeof entry?.budget_duration !== 'string') return;
      const window = windowOf(entry.budget_duration);
      const earlier = seen.get(window);
      if (earlier !== undefined) {
        const same = earlier === entry.budget_duration ? '' : ` (the same window as "${earlier}")`;
        ctx.addIssue({ code: 'custom', path: [i, 'budget_duration'], message: `duplicate budget_duration "${entry.budget_duration}"${same}` });
      } else seen.set(window, entry.budget_duration);
    });
  });
export type BudgetLimitInput = z.output<typeof budgetLimit>;

/** A team member as LiteLLM writes one: a role and a user id or email (or both). */
export const teamMember = z.object({
  role: z.enum(['admin', 'user'], { error: 'expected "admin" or "user"' }),
  user_id: id.nullish(),
  user_email: text.nullish(),
}).refine((m) => Boolean(m.user_id || m.user_email), { message: 'either user_id or user_email is required' });
export type TeamMemberInput = z.output<typeof teamMember>;

/** `member` of member_add: one member or a list. */
export const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1, 'at least one member')])
  .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

/** LiteLLM's check: money fields must be finite and not negative (400, not 422). */
export function assertNonNegative(values: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields) {
    const v = values[field];
    if (typeof v === 'number' && v < 0) {
      throw badRequest(`${field} must be a non-negative finite number. Received: ${v}`, field);
    }
  }
}

/**
 * Refuses `default_user_id` as the id of a user a request creates or adds (400): it is what created_by holds for
 * the master key's keys, so a user with it would make its keys pass as the master key's (worker/auth/delegation.ts).
 */
export function refuseReservedUserId(userIds: readonly (string | null | undefined)[], param = 'user_id'): void {
  if (userIds.includes(MASTER_CREATOR)) throw badRequest(RESERVED_USER_ID_MESSAGE, param);
}

/** Query parameters are strings; page numbers and sizes are parsed here (422 when not numbers). */
export const queryInt = (min: number, max: number, fallback: number) => z.preprocess(
  (v) => (v === undefined || v === '' ? fallback : /^\d+$/.test(String(v)) ? Number(v) : v),
  z.number({ error: 'expected a whole number' }).int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
);

/** Python's `str(list)`, for messages LiteLLM formats that way. */
export function pyList(items: readonly string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

