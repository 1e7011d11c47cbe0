/** Request bodies and queries of `/user/*` (LiteLLM's NewUserRequest, UpdateUserRequest, ...). */
import { z } from 'zod';
import { duration, flag, id, idList, jsonObject, limit, money, queryInt, stringList, text } from '../principals/fields.ts';

export const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'team', 'customer', 'org_admin'] as const;
export const userRole = z.enum(USER_ROLES, { error: `expected one of ${USER_ROLES.join(', ')}` });

/** Fields of a user row a request may set; `null` on update clears one. */
export const userFields = {
  user_alias: text.nullish(),
  user_email: text.nullish(),
  user_role: userRole.nullish(),
  max_budget: money.nullish(),
  budget_duration: duration.nullish(),
  models: stringList.nullish(),
  tpm_limit: limit.nullish(),
  rpm_limit: limit.nullish(),
  max_parallel_requests: limit.nullish(),
  metadata: jsonObject.nullish(),
  model_max_budget: jsonObject.nullish(),
  allowed_cache_controls: stringList.nullish(),
  spend: money.nullish(),
};
export const USER_MONEY_FIELDS = ['max_budget', 'spend'] as const;

/** `teams` of /user/new: team ids, or `{team_id, max_budget_in_team, user_role}`. */
const newUserTeam = z.union([
  id.transform((team_id) => ({ team_id, max_budget_in_team: null as number | null | undefined, user_role: 'user' as 'user' | 'admin' })),
  z.object({
    team_id: id,
    max_budget_in_team: money.nullish(),
    user_role: z.enum(['admin', 'user'], { error: 'expected "admin" or "user"' }).default('user'),
  }),
], { error: 'expected a team id or {team_id, max_budget_in_team, user_role}' });

export const newUserBody = z.object({
  user_id: id.optional(),
  ...userFields,
  teams: z.array(newUserTeam, { error: 'expected a list of team ids' }).nullish(),
  /** Deprecated single team, still accepted by LiteLLM. */
  team_id: id.nullish(),
  organizations: idList.nullish(),
  auto_create_key: flag.default(true),
  key_alias: text.nullish(),
  /** Lifetime of the auto-created key (`30d`); none means it never expires. */
  duration: duration.nullish(),
  send_invite_email: flag.nullish(),
});
export type NewUserBody = z.output<typeof newUserBody>;

export const updateUserBody = z.object({ user_id: id.nullish(), ...userFields });
export type UpdateUserBody = z.output<typeof updateUserBody>;

/** `/user/bulk_update`: a list of updates (`users`), or one (`user_updates`, naming no user) for every user (`all_users`). */
export const bulkUpdateUsersBody = z.object({
  users: z.array(updateUserBody).max(1000, 'at most 1000 users').optional(),
  all_users: z.boolean().default(false),
  // Naming no user: a user_id or user_email here is refused (what LiteLLM's other fields are is dropped, as on /user/update).
  user_updates: z.object({ ...userFields, user_id: z.never().optional(), user_email: z.never().optional() }).optional(),
}).refine((b) => (b.users?.length ? !b.all_users : b.all_users && b.user_updates !== undefined), {
  message: "Must specify either 'users' for individual updates or 'all_users=true' with 'user_updates' for bulk updates, not both",
  path: ['users'],
});

export const deleteUsersBody = z.object({ user_ids: idList.min(1, 'at least one user id') });

export const userInfoQuery = z.object({ user_id: id.optional() });

export const USER_SORT_COLUMNS = ['user_id', 'user_email', 'created_at', 'spend', 'user_alias', 'user_role'] as const;

export const userListQuery = z.object({
  page: queryInt(1, 1_000_000, 1),
  page_size: queryInt(1, 100, 25),
  role: userRole.optional(),
  user_ids: text.optional(),
  user_email: text.optional(),
  team: id.optional(),
  sort_by: z.enum(USER_SORT_COLUMNS, { error: `expected one of ${USER_SORT_COLUMNS.join(', ')}` }).optional(),
  sort_order: z.enum(['asc', 'desc'], { error: 'expected asc or desc' }).default('asc'),
});
