/**
 * Adding users to a team, as LiteLLM's `add_new_member` does: the user row is
 * created when missing (role internal_user, with `newUser`'s budget), the team id is appended to the
 * user's `teams`, and a per-member budget becomes a LiteLLM_TeamMembership row.
 * Shared by /team/new, /team/member_add and /user/new.
 */
import { and, eq, sql } from 'drizzle-orm';
import { users, type UserRow } from '../../../drizzle/schema/principals.ts';
import { type TeamMember, teamMemberships } from '../../../drizzle/schema/teams.ts';
import { type Json, teamMembershipJson, userJson } from '../../lib/serialize.ts';
import { badRequest } from '../../lib/validation.ts';
import { createBudget } from '../budgets/rows.ts';
import type { TeamMemberInput } from '../principals/fields.ts';
import { textArray } from '../principals/sql.ts';
import { teamMemberId } from '../../../worker/limits/client.ts';
import type { Changes, Tx } from '../principals/mutation.ts';
import type { InternalUserBudget } from '../users/values.ts';

export interface AddedMembers {
  /** The members as stored in `members_with_roles`, each with its user id resolved. */
  members: TeamMember[];
  users: UserRow[];
  memberships: Json[];
}

/** `teams` with `teamId` appended unless already there (so repeated adds never duplicate it). */
const withTeam = (teamId: string) =>
  sql`CASE WHEN ${teamId}::text = ANY(${users.teams}) THEN ${users.teams} ELSE array_append(${users.teams}, ${teamId}::text) END`;

/** The user for a member, created if missing (with `newUser`), with `teamId` in its `teams`. */
export async function joinUserToTeam(tx: Tx, changes: Changes, teamId: string, member: TeamMemberInput, newUser: InternalUserBudget = {}): Promise<UserRow> {
  if (member.user_id) {
    const [known] = await tx.select({ id: users.user_id }).from(users).where(eq(users.user_id, member.user_id)).limit(1);
    // An upsert, so that two requests adding the same new user both succeed.
    const [row] = await tx.insert(users)
      .values({ ...newUser, user_id: member.user_id, user_email: member.user_email ?? null, user_role: 'internal_user', teams: [teamId] })
      .onConflictDoUpdate({ target: users.user_id, set: { teams: withTeam(teamId), updated_at: new Date() } })
      .returning() as [UserRow];
    if (!known) await changes.audit({ action: 'created', table: 'LiteLLM_UserTable', objectId: row.user_id, after: userJson(row) });
    changes.refresh('user', member.user_id);
    return row;
  }
  const email = member.user_email as string;
  const found = await tx.select().from(users).where(sql`lower(${users.user_email}) = lower(${email})`).limit(2);
  if (found.length > 1) throw badRequest(`Multiple users with this email found in db. Please use 'user_id' instead. user_email=${email}`, 'user_email');
  const existing = found[0];
  if (existing) {
    const [row] = await tx.update(users).set({ teams: withTeam(teamId) }).where(eq(users.user_id, existing.user_id)).returning();
    changes.refresh('user', existing.user_id);
    return row as UserRow;
  }
  const [row] = await tx.insert(users)
    .values({ ...newUser, user_id: crypto.randomUUID(), user_email: email, user_role: 'internal_user', teams: [teamId] })
    .returning();
  await changes.audit({ action: 'created', table: 'LiteLLM_UserTable', objectId: (row as UserRow).user_id, after: userJson(row as UserRow) });
  return row as UserRow;
}

/**
 * Adds members to `team` (locked by the caller, who writes the returned
 * `members` back to its `members_with_roles`). A user already in the team is
 * LiteLLM's 400 `team_member_already_in_team`.
 */
export async function addTeamMembers(
  tx: Tx,
  changes: Changes,
  team: { team_id: string; members_with_roles: TeamMember[] },
  additions: TeamMemberInput[],
  options: { maxBudgetInTeam?: number | null; actor: string; newUser?: InternalUserBudget },
): Promise<AddedMembers> {
  const members = [...team.members_with_roles];
  const out: AddedMembers = { members, users: [], memberships: [] };
  for (const member of additions) {
    const clash = members.find((m) => (member.user_id && m.user_id === member.user_id) || (!member.user_id && member.user_email && m.user_email === member.user_email));
    if (clash) throw memberAlreadyInTeam(member, team.team_id);
    const user = await joinUserToTeam(tx, changes, team.team_id, member, options.newUser);
    if (members.some((m) => m.user_id === user.user_id)) throw memberAlreadyInTeam({ ...member, user_id: user.user_id }, team.team_id);
    members.push({ role: member.role, user_id: user.user_id, user_email: member.user_email ?? user.user_email ?? null });
    out.users.push(user);
    if (options.maxBudgetInTeam != null) out.memberships.push(await setMemberBudget(tx, changes, team.team_id, user.user_id, options.maxBudgetInTeam, options.actor));
  }
  return out;
}

function memberAlreadyInTeam(member: TeamMemberInput, teamId: string) {
  const who = member.user_id ? `User=${member.user_id}` : `User email=${member.user_email}`;
  const err = badRequest(`${who} already in team=${teamId}`, 'member');
  return Object.assign(err, { type: 'team_member_already_in_team' });
}

/** A budget of `maxBudget` for one member inside the team (LiteLLM's `max_budget_in_team`). */
export async function setMemberBudget(tx: Tx, changes: Changes, teamId: string, userId: string, maxBudget: number, actor: string): Promise<Json> {
  const budget = await createBudget(tx, changes, { max_budget: maxBudget }, actor);
  const [membership] = await tx.insert(teamMemberships)
    .values({ team_id: teamId, user_id: userId, budget_id: budget.budget_id })
    .onConflictDoUpdate({ target: [teamMemberships.user_id, teamMemberships.team_id], set: { budget_id: budget.budget_id } })
    .returning();
  changes.refresh('team_member', teamMemberId(userId, teamId));
  return teamMembershipJson(membership!, budget);
}

/** Takes `teamIds` out of these users' `teams` lists. */
export async function dropTeamsFromUsers(tx: Tx, teamIds: string[], userIds?: string[]): Promise<void> {
  const ids = textArray(teamIds);
  await tx.update(users)
    .set({ teams: sql`ARRAY(SELECT t FROM unnest(${users.teams}) AS t WHERE t <> ALL(${ids}))` })
    .where(and(sql`${users.teams} && ${ids}`, userIds ? sql`${users.user_id} = ANY(${textArray(userIds)})` : undefined));
}
