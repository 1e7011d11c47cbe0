/** `/team/member_add` and `/team/member_delete`: proxy admins and the team's own admins. */
import { and, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { users } from '../../../drizzle/schema/principals.ts';
import { teamMemberships, type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { teamJson, userJson } from '../../lib/serialize.ts';
import { badRequest, parseBody } from '../../lib/validation.ts';
import { requireTeamAdmin } from '../principals/access.ts';
import { assertNonNegative, refuseReservedUserId } from '../principals/fields.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { anyOf } from '../principals/sql.ts';
import { newInternalUserBudget } from '../users/values.ts';
import { addTeamMembers, dropTeamsFromUsers, setMemberBudget } from './membership.ts';
import { memberAddBody, memberDeleteBody, memberUpdateBody } from './schemas.ts';
import { findTeam } from './store.ts';

export const teamMemberRoutes = new Hono<AdminBindings>();
const TAG = 'team management';

describeRoute({ method: 'post', path: '/team/member_add', summary: 'Add users to a team (creating missing users)', tag: TAG, body: memberAddBody });
teamMemberRoutes.post('/team/member_add', async (c) => {
  const body = await parseBody(c, memberAddBody);
  assertNonNegative(body, ['max_budget_in_team']);
  refuseReservedUserId(body.member.map((m) => m.user_id), 'member');
  const newUser = await newInternalUserBudget(c);
  const result = await commit(c, async (tx, changes) => {
    const existing = await findTeam(tx, body.team_id, { forUpdate: true });
    requireTeamAdmin(c, existing, '/team/member_add');
    const added = await addTeamMembers(tx, changes, existing, body.member, { maxBudgetInTeam: body.max_budget_in_team, actor: actorName(c), newUser });
    const [row] = await tx.update(teams).set({ members_with_roles: added.members }).where(eq(teams.team_id, existing.team_id)).returning() as [TeamRow];
    await changes.audit({ action: 'updated', table: 'LiteLLM_TeamTable', objectId: row.team_id, before: teamJson(existing), after: teamJson(row) });
    changes.refresh('team', row.team_id);
    return { row, added };
  });
  return c.json({
    ...teamJson(result.row, await budgetClock(c)),
    updated_users: result.added.users.map(userJson),
    updated_team_memberships: result.added.memberships,
  });
});

describeRoute({ method: 'post', path: '/team/member_update', summary: "Change a member's role or budget in the team", tag: TAG, body: memberUpdateBody });
teamMemberRoutes.post('/team/member_update', async (c) => {
  const body = await parseBody(c, memberUpdateBody);
  if (!body.user_id && !body.user_email) throw badRequest('Either user_id or user_email needs to be passed in', 'user_id');
  assertNonNegative(body, ['max_budget_in_team']);
  const result = await commit(c, async (tx, changes) => {
    const existing = await findTeam(tx, body.team_id, { forUpdate: true });
    requireTeamAdmin(c, existing, '/team/member_update');
    const member = existing.members_with_roles.find((m) =>
      (body.user_id && m.user_id === body.user_id) || (!body.user_id && body.user_email && m.user_email === body.user_email));
    if (!member) throw badRequest('User not found in team', body.user_id ? 'user_id' : 'user_email');
    const role = body.role ?? member.role;
    const members = existing.members_with_roles.map((m) => (m === member ? { ...m, role } : m));
    const userId = member.user_id;
    const admins = userId && role === 'admin' ? [...new Set([...existing.admins, userId])] : existing.admins.filter((a) => a !== userId);
    const [row] = await tx.update(teams).set({ members_with_roles: members, admins }).where(eq(teams.team_id, existing.team_id)).returning() as [TeamRow];
    let maxBudget: number | null = null;
    if (userId && body.max_budget_in_team !== undefined && body.max_budget_in_team !== null) {
      maxBudget = body.max_budget_in_team;
      await setMemberBudget(tx, changes, existing.team_id, userId, maxBudget, actorName(c));
    }
    await changes.audit({ action: 'updated', table: 'LiteLLM_TeamTable', objectId: row.team_id, before: teamJson(existing), after: teamJson(row) });
    changes.refresh('team', row.team_id);
    return { userId, email: member.user_email ?? null, role, maxBudget };
  });
  // LiteLLM's TeamMemberUpdateResponse.
  return c.json({ team_id: body.team_id, user_id: result.userId, user_email: result.email, role: result.role, max_budget_in_team: result.maxBudget });
});

describeRoute({ method: 'post', path: '/team/member_delete', summary: 'Remove a user from a team', tag: TAG, body: memberDeleteBody });
teamMemberRoutes.post('/team/member_delete', async (c) => {
  const body = await parseBody(c, memberDeleteBody);
  if (!body.user_id && !body.user_email) throw badRequest('Either user_id or user_email needs to be passed in', 'user_id');
  const team = await commit(c, async (tx, changes) => {
    const existing = await findTeam(tx, body.team_id, { forUpdate: true });
    requireTeamAdmin(c, existing, '/team/member_delete');
    const leaving = existing.members_with_roles.filter((m) =>
      (body.user_id && m.user_id === body.user_id) || (body.user_email && m.user_email === body.user_email));
    if (leaving.length === 0) throw badRequest('User not found in team', body.user_id ? 'user_id' : 'user_email');
    const remaining = existing.members_with_roles.filter((m) => !leaving.includes(m));
    const leavingIds = leaving.map((m) => m.user_id).filter((id): id is string => Boolean(id));
    const [row] = await tx.update(teams).set({
      members_with_roles: remaining,
      admins: existing.admins.filter((id) => !leavingIds.includes(id)),
      members: existing.members.filter((id) => !leavingIds.includes(id)),
    }).where(eq(teams.team_id, existing.team_id)).returning() as [TeamRow];
    if (leavingIds.length) {
      await dropTeamsFromUsers(tx, [existing.team_id], leavingIds);
      await tx.delete(teamMemberships).where(and(eq(teamMemberships.team_id, existing.team_id), anyOf(teamMemberships.user_id, leavingIds)));
      for (const id of leavingIds) changes.refresh('user', id);
    }
    if (body.user_email && !body.user_id) {
      // A member added by email only: the user row is found by that email.
      await tx.update(users).set({ teams: sql`array_remove(${users.teams}, ${existing.team_id}::text)` }).where(eq(users.user_email, body.user_email));
    }
    await changes.audit({ action: 'updated', table: 'LiteLLM_TeamTable', objectId: row.team_id, before: teamJson(existing), after: teamJson(row) });
    changes.refresh('team', row.team_id);
    return row;
  });
  return c.json(teamJson(team, await budgetClock(c)));
});
