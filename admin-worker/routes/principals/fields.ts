/**
 * zod building blocks shared by the principals routes. Wrong types are 422s
 * naming the field (parseBody); negative money is LiteLLM's 400, checked
 * after parsing by `assertNonNegative`.
 */
import { z } from 'zod';
import { DURATION } from '../../../worker/config/fields.ts';
import { badRequest } from '../../lib/validation.ts';

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

/** Query parameters are strings; page numbers and sizes are parsed here (422 when not numbers). */
export const queryInt = (min: number, max: number, fallback: number) => z.preprocess(
  (v) => (v === undefined || v === '' ? fallback : /^\d+$/.test(String(v)) ? Number(v) : v),
  z.number({ error: 'expected a whole number' }).int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
);

/** Python's `str(list)`, for messages LiteLLM formats that way. */
export function pyList(items: readonly string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

