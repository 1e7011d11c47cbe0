/** User request fields → LiteLLM_UserTable columns, and the personal key /user/new creates. */
import type { NewKeyRow } from '../../../drizzle/schema/keys.ts';
import type { NewUserRow, UserRow } from '../../../drizzle/schema/principals.ts';
import { abbreviateKey, hashKey } from '../../../worker/auth/secrets.ts';
import { durationSeconds } from '../../../worker/limits/windows.ts';
import { gatewayState } from '../../../worker/state.ts';
import type { AdminContext } from '../../lib/context.ts';
import { budgetTimeZone, resetAt } from '../budgets/rows.ts';
import type { NewUserBody, UpdateUserBody } from './schemas.ts';

type UserFields = Omit<UpdateUserBody, 'user_id'>;

const NULLABLE = ['user_alias', 'user_email', 'max_budget', 'tpm_limit', 'rpm_limit', 'max_parallel_requests'] as const;

export function newUserRow(body: NewUserBody, userId: string, timeZone: string): NewUserRow {
  const row: NewUserRow = {
    user_id: userId,
    user_role: body.user_role ?? 'internal_user',
    teams: [],
    models: body.models ?? [],
    metadata: body.metadata ?? {},
    model_max_budget: body.model_max_budget ?? {},
    allowed_cache_controls: body.allowed_cache_controls ?? [],
    spend: body.spend ?? 0,
    budget_duration: body.budget_duration ?? null,
    budget_reset_at: resetAt(body.budget_duration, timeZone),
  };
  for (const field of NULLABLE) (row as Record<string, unknown>)[field] = body[field] ?? null;
  return row;
}

/**
 * LiteLLM's `max_internal_user_budget` and `internal_user_budget_duration`: the budget and window an
 * internal user is created with when the request sets none (absent or null, as LiteLLM reads None).
 * LiteLLM gives them to `internal_user` only, not to admins, viewers or other roles; a user created
 * without a role is an internal_user here, so it gets them too.
 */
export function withInternalUserBudget(body: NewUserBody, settings: { max_internal_user_budget?: number; internal_user_budget_duration?: string }): NewUserBody {
  if ((body.user_role ?? 'internal_user') !== 'internal_user') return body;
  return {
    ...body,
    max_budget: body.max_budget ?? settings.max_internal_user_budget ?? body.max_budget,
    budget_duration: body.budget_duration ?? settings.internal_user_budget_duration ?? body.budget_duration,
  };
}

/** The budget columns a user created by a member add starts with. */
export type InternalUserBudget = Partial<Pick<NewUserRow, 'max_budget' | 'budget_duration' | 'budget_reset_at'>>;

/**
 * What LiteLLM's `get_new_internal_user_defaults` gives a user that /team/new, /team/member_add or
 * /organization/member_add creates: `max_internal_user_budget` and `internal_user_budget_duration`,
 * the window starting now.
 */
export async function newInternalUserBudget(c: AdminContext): Promise<InternalUserBudget> {
  const settings = (await gatewayState(c.env)).config.litellm_settings;
  const duration = settings.internal_user_budget_duration;
  return {
    ...(settings.max_internal_user_budget !== undefined ? { max_budget: settings.max_internal_user_budget } : {}),
    ...(duration ? { budget_duration: duration, budget_reset_at: resetAt(duration, await budgetTimeZone(c)) } : {}),
  };
}

/** Only the fields the request named; `null` clears (lists and objects back to empty). */
export function userPatch(body: UserFields, timeZone: string): Partial<NewUserRow> {
  const patch: Partial<NewUserRow> = {};
  for (const field of NULLABLE) if (body[field] !== undefined) (patch as Record<string, unknown>)[field] = body[field];
  if (body.user_role !== undefined) patch.user_role = body.user_role ?? 'internal_user';
  if (body.models !== undefined) patch.models = body.models ?? [];
  if (body.metadata !== undefined) patch.metadata = body.metadata ?? {};
  if (body.model_max_budget !== undefined) patch.model_max_budget = body.model_max_budget ?? {};
  if (body.allowed_cache_controls !== undefined) patch.allowed_cache_controls = body.allowed_cache_controls ?? [];
  if (body.spend !== undefined) patch.spend = body.spend ?? 0;
  if (body.budget_duration !== undefined) {
    patch.budget_duration = body.budget_duration;
    patch.budget_reset_at = resetAt(body.budget_duration, timeZone);
  }
  return patch;
}

/**
 * Fields a user may change on their own row; budgets, limits, models and roles are for proxy admins, and so is
 * `user_email`: a JWT whose user id is unknown is the user its email names (limits/jwt-policy.ts), so a user who
 * set a colleague's email on their own row would become the caller of the colleague's tokens.
 */
export const SELF_SERVICE_FIELDS: ReadonlySet<string> = new Set(['user_alias', 'metadata']);

/** The personal key /user/new creates (`auto_create_key`); only its hash is stored. */
export async function personalKeyRow(plain: string, user: UserRow, body: NewUserBody, actor: string, now = new Date()): Promise<NewKeyRow> {
  const seconds = body.duration ? durationSeconds(body.duration) : undefined;
  return {
    token: await hashKey(plain),
    key_name: abbreviateKey(plain),
    key_alias: body.key_alias ?? null,
    user_id: user.user_id,
    models: body.models ?? [],
    expires: seconds ? new Date(now.getTime() + seconds * 1000) : null,
    created_by: actor,
    updated_by: actor,
  };
}
