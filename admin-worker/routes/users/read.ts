/** `/user/info`, `/v2/user/info`, `/user/list` and `/user/available_roles`. */
import { and, asc, count, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { callerUserId, isAdminReader } from '../../lib/auth.ts';
import { Hono } from 'hono';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { type UserRow, users } from '../../../drizzle/schema/principals.ts';
import { teams } from '../../../drizzle/schema/teams.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { keyJson, teamJson, userJson } from '../../lib/serialize.ts';
import { badRequest, notFound, parseQuery } from '../../lib/validation.ts';
import { forbidden, isTeamAdmin } from '../principals/access.ts';
import { anyOf, membersInclude } from '../principals/sql.ts';
import { userInfoQuery, userListQuery } from './schemas.ts';
import { findUser } from './store.ts';
import { containing } from '../../lib/sql-text.ts';

export const userReadRoutes = new Hono<AdminBindings>();
const TAG = 'Internal User management';

/** The roles a user can be given, as LiteLLM's admin UI offers them (`/user/available_roles`), with what each may do here. */
const AVAILABLE_ROLES = {
  proxy_admin: { description: 'Can do everything: every key, user, team, organization, model and setting.', ui_label: 'Admin (All Permissions)' },
  proxy_admin_viewer: { description: 'Can read everything (keys, users, teams, spend, audit log) and change nothing.', ui_label: 'Admin (View Only)' },
  internal_user: { description: "Can call models with their keys and read their own keys, spend and teams; as a team's admin, manages its keys and members.", ui_label: 'Internal User (Create/Delete/View)' },
  internal_user_viewer: { description: 'Can call models with their keys and read their own keys, spend and teams; cannot create, change or delete keys, nor add users.', ui_label: 'Internal User (View Only)' },
} as const;

describeRoute({ method: 'get', path: '/user/available_roles', summary: 'The roles a user can be given, each with its label and what it may do', tag: TAG });
userReadRoutes.get('/user/available_roles', (c) => c.json(AVAILABLE_ROLES));

describeRoute({ method: 'get', path: '/user/info', summary: 'A user with its keys and teams', tag: TAG, query: userInfoQuery });
userReadRoutes.get('/user/info', async (c) => {
  const query = parseQuery(c, userInfoQuery);
  const own = callerUserId(c);
  const userId = query.user_id ?? own;
  if (!userId) throw badRequest('user_id is required (the calling key belongs to no user)', 'user_id');
  if (!isAdminReader(c) && userId !== own) throw forbidden(`User=${own} not allowed to view user=${userId}. Only proxy admins can view other users.`);
  const { db } = c.get('db')();
  const user = await findUser(db, userId);
  if (!user) throw notFound(`User ${userId} not found`);
  const [teamRows, keyRows] = await Promise.all([
    db.select().from(teams)
      .where(or(membersInclude(teams.members_with_roles, userId), user.teams.length ? anyOf(teams.team_id, user.teams) : undefined))
      .orderBy(asc(teams.team_alias)),
    db.select().from(verificationTokens).where(eq(verificationTokens.user_id, userId)).orderBy(verificationTokens.created_at),
  ]);
  const alias = new Map(teamRows.map((t) => [t.team_id, t.team_alias]));
  const clock = await budgetClock(c);
  return c.json({
    user_id: userId,
    user_info: userJson(user),
    // LiteLLM adds each key's team alias ("None" for a personal key, as its Python str() gives).
    keys: keyRows.map((k) => ({ ...keyJson(k, clock), team_alias: k.team_id ? alias.get(k.team_id) ?? null : 'None' })),
    teams: teamRows.map((t) => teamJson(t, clock)),
  });
});

/**
 * How the caller may read this user at `/v2/user/info` (LiteLLM's `_check_user_info_v2_access`): admins
 * and viewers any user and a user itself all of it (`whole`), a team's admins the members of that team
 * (`team_admin`); anyone else not at all (null).
 */
async function userReader(c: AdminContext, db: NeonDatabase, user: UserRow): Promise<'whole' | 'team_admin' | null> {
  if (isAdminReader(c) || callerUserId(c) === user.user_id) return 'whole';
  if (!callerUserId(c)) return null;
  const theirTeams = await db.select({ admins: teams.admins, members_with_roles: teams.members_with_roles }).from(teams)
    .where(or(membersInclude(teams.members_with_roles, user.user_id), user.teams.length ? anyOf(teams.team_id, user.teams) : undefined));
  return theirTeams.some((team) => isTeamAdmin(c, team)) ? 'team_admin' : null;
}

/**
 * LiteLLM's UserInfoV2Response: the user row's own fields, its teams as ids, no keys. `metadata` (what admins
 * wrote about the user, SSO and SCIM attributes) is for admins, viewers and the user alone: a team admin, who
 * reads the user only as a member of its team, gets `{}`. Spend and budget are the user's across all its
 * teams, as LiteLLM shows them to a team admin.
 */
function userInfoV2Json(user: UserRow, showMetadata: boolean) {
  return {
    user_id: user.user_id, user_email: user.user_email, user_alias: user.user_alias, user_role: user.user_role, spend: user.spend,
    max_budget: user.max_budget, models: user.models, budget_duration: user.budget_duration, budget_reset_at: user.budget_reset_at,
    metadata: showMetadata ? user.metadata : {}, created_at: user.created_at, updated_at: user.updated_at, sso_user_id: user.sso_user_id, teams: user.teams,
  };
}

describeRoute({ method: 'get', path: '/v2/user/info', summary: "A user's own row, without its keys and teams expanded (the caller's user by default)", tag: TAG, query: userInfoQuery });
userReadRoutes.get('/v2/user/info', async (c) => {
  const userId = parseQuery(c, userInfoQuery).user_id ?? callerUserId(c);
  if (!userId) throw badRequest('user_id is required. Either pass it as a query parameter or authenticate with a user-bound key.', 'user_id');
  const { db } = c.get('db')();
  const user = await findUser(db, userId);
  const reader = user ? await userReader(c, db, user) : null;
  // A user the caller may not read is answered as one that does not exist (LiteLLM's 404), so ids cannot be probed.
  if (!user || !reader) throw notFound(`User not found: ${userId}`);
  return c.json(userInfoV2Json(user, reader === 'whole'));
});

const SORTABLE = { user_id: users.user_id, user_email: users.user_email, created_at: users.created_at, spend: users.spend, user_alias: users.user_alias, user_role: users.user_role };

describeRoute({ method: 'get', path: '/user/list', summary: 'Users, paginated', tag: TAG, query: userListQuery });
userReadRoutes.get('/user/list', async (c) => {
  if (!isAdminReader(c)) throw forbidden('Only proxy admins and organization admins can list users.');
  const q = parseQuery(c, userListQuery);
  const filters: SQL[] = [];
  if (q.role) filters.push(eq(users.user_role, q.role));
  const ids = q.user_ids?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  // One id is a substring search, several an exact list (LiteLLM's behaviour).
  if (ids.length === 1) filters.push(sql`${users.user_id} ILIKE ${containing(ids[0]!)}`);
  else if (ids.length > 1) filters.push(anyOf(users.user_id, ids));
  if (q.user_email) filters.push(sql`${users.user_email} ILIKE ${containing(q.user_email)}`);
  if (q.team) filters.push(sql`${q.team}::text = ANY(${users.teams})`);
  const where = and(...filters);
  const order = q.sort_by ? (q.sort_order === 'desc' ? desc : asc)(SORTABLE[q.sort_by]) : desc(users.created_at);
  const { db } = c.get('db')();
  const [rows, [{ total } = { total: 0 }]] = await Promise.all([
    db.select().from(users).where(where).orderBy(order, asc(users.user_id)).limit(q.page_size).offset((q.page - 1) * q.page_size),
    db.select({ total: count() }).from(users).where(where),
  ]);
  const counts = new Map<string, number>();
  if (rows.length) {
    const keyCounts = await db.select({ user_id: verificationTokens.user_id, n: count() }).from(verificationTokens)
      .where(anyOf(verificationTokens.user_id, rows.map((r) => r.user_id))).groupBy(verificationTokens.user_id);
    for (const { user_id, n } of keyCounts) counts.set(user_id as string, n);
  }
  return c.json({
    users: rows.map((r) => ({ ...userJson(r), key_count: counts.get(r.user_id) ?? 0 })),
    total,
    page: q.page,
    page_size: q.page_size,
    total_pages: Math.ceil(total / q.page_size),
  });
});

