/**
 * The calling user's own view of teams (LiteLLM's self-serve routes): `GET /team/available`, the teams
 * `litellm_settings.default_internal_user_params.available_teams` offers it to join, and
 * `GET /team/{team_id}/members/me`, its own membership in one team.
 */
import { and, asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { budgets } from '../../../drizzle/schema/budgets.ts';
import { teamMemberships, type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import { gatewayState } from '../../../worker/state.ts';
import { callerUserId } from '../../lib/auth.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { teamMembershipJson } from '../../lib/serialize.ts';
import { badRequest, notFound } from '../../lib/validation.ts';
import { anyOf } from '../principals/sql.ts';
import { findUser } from '../users/store.ts';

export const teamSelfServiceRoutes = new Hono<AdminBindings>();
const TAG = 'team management';

describeRoute({ method: 'get', path: '/team/available', summary: "Teams the caller's user may join (litellm_settings.default_internal_user_params.available_teams), less those it is in", tag: TAG });
teamSelfServiceRoutes.get('/team/available', async (c) => {
  const offered = (await gatewayState(c.env)).config.litellm_settings.default_internal_user_params?.available_teams;
  if (!offered) {
    throw badRequest('No available teams for user to join. See how to set available teams here: https://docs.litellm.ai/docs/proxy/self_serve#all-settings-for-self-serve--sso-flow');
  }
  const userId = callerUserId(c);
  const { db } = c.get('db')();
  const user = userId ? await findUser(db, userId) : null;
  if (!user) throw notFound('User not found');
  // A team named in the user's `teams`, or naming the user as a member (any of its lists), is one it is already in.
  const joinable = offered.filter((teamId) => !user.teams.includes(teamId));
  if (joinable.length === 0) return c.json([]);
  const rows = await db.select().from(teams).where(anyOf(teams.team_id, joinable)).orderBy(asc(teams.team_alias), asc(teams.team_id));
  return c.json(rows.filter((row) => !memberOf(row, user.user_id)).map(availableTeamJson));
});

/**
 * A team as a user deciding whether to join it sees it: what it would get (models, budget, limits),
 * nothing of its members but their roles, and no spend or metadata (callbacks, admins' notes). LiteLLM
 * answers whole rows; its UI shows the alias, the models and `members_with_roles.length`, so roles stay.
 */
function availableTeamJson(row: TeamRow) {
  return {
    team_id: row.team_id, team_alias: row.team_alias, models: row.models, max_budget: row.max_budget, budget_duration: row.budget_duration,
    tpm_limit: row.tpm_limit, rpm_limit: row.rpm_limit, members_with_roles: row.members_with_roles.map(({ role }) => ({ role })),
  };
}

/** The user's place in the team: its `members_with_roles` entry, or the legacy `admins` / `members` lists. */
function memberOf(team: TeamRow, userId: string): { role: string; user_email: string | null } | null {
  const listed = team.members_with_roles.find((m) => m.user_id === userId);
  if (listed) return { role: listed.role, user_email: listed.user_email ?? null };
  if (team.admins.includes(userId)) return { role: 'admin', user_email: null };
  if (team.members.includes(userId)) return { role: 'user', user_email: null };
  return null;
}

describeRoute({ method: 'get', path: '/team/:team_id/members/me', summary: "The caller's own membership in the team: role, budget and spend in it", tag: TAG });
teamSelfServiceRoutes.get('/team/:team_id{.+}/members/me', async (c) => {
  const teamId = c.req.param('team_id');
  const userId = callerUserId(c);
  // A team or service-account key (and the master key) has no user whose membership this could be.
  if (!userId) throw badRequest('This route needs a key that belongs to a user: the calling key has no user_id', 'user_id');
  const { db } = c.get('db')();
  const [team] = await db.select().from(teams).where(eq(teams.team_id, teamId)).limit(1);
  const member = team ? memberOf(team, userId) : null;
  // A team the caller is not in, proxy admins included, is answered as an unknown one: ids cannot be probed.
  if (!team || !member) throw notFound(`User=${userId} is not a member of team=${teamId}`);
  const [[row], user] = await Promise.all([
    db.select({ membership: teamMemberships, budget: budgets }).from(teamMemberships)
      .leftJoin(budgets, eq(budgets.budget_id, teamMemberships.budget_id))
      .where(and(eq(teamMemberships.team_id, teamId), eq(teamMemberships.user_id, userId))).limit(1),
    member.user_email ? null : findUser(db, userId),
  ]);
  // Without a budget in the team a member has no LiteLLM_TeamMembership row (and no spend kept in it): answered as LiteLLM's empty row.
  const membership = row ? teamMembershipJson(row.membership, row.budget) : { user_id: userId, team_id: teamId, spend: 0, budget_id: null, litellm_budget_table: null };
  return c.json({ ...membership, role: member.role, user_email: member.user_email ?? user?.user_email ?? null, team_alias: team.team_alias });
});
