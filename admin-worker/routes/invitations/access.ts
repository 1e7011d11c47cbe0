/**
 * Who may invite a user. LiteLLM lets proxy admins, and admins of any team or organization, create and
 * delete invitation links for any user. A link lets whoever holds it set its user's password, so Tollgate
 * narrows the second part: a team admin (or organization admin) acts only for users of a team (or
 * organization) it administers who hold no admin role anywhere (proxy admin, viewer, org_admin, or admin
 * of any team or organization): otherwise a team admin could take over a user with more power than its own.
 * A claim re-checks this for the link's creator as things are then (mayInvite).
 */
import { and, or, sql } from 'drizzle-orm';
import { organizationMemberships, type UserRow } from '../../../drizzle/schema/principals.ts';
import { teams } from '../../../drizzle/schema/teams.ts';
import { callerUserId, isProxyAdmin } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { forbidden } from '../principals/access.ts';
import { PROXY_ADMIN_NAME, type Tx } from '../principals/mutation.ts';
import { membersInclude } from '../principals/sql.ts';
import { findUser } from '../users/store.ts';

const ADMIN_ROLES = new Set(['proxy_admin', 'proxy_admin_viewer', 'org_admin']);

/** True when `userId` administers some team or organization (any one, not only the inviter's). */
async function administersAnything(tx: Tx, userId: string): Promise<boolean> {
  const { rows } = await tx.execute<{ found: number }>(sql`
    SELECT 1 AS found FROM ${teams}
    WHERE ${sql.param(userId)} = ANY(${teams.admins}) OR ${teams.members_with_roles} @> ${sql.param(JSON.stringify([{ user_id: userId, role: 'admin' }]))}::jsonb
    UNION ALL
    SELECT 1 FROM ${organizationMemberships} WHERE ${organizationMemberships.user_id} = ${userId} AND ${organizationMemberships.user_role} = 'org_admin'
    LIMIT 1`);
  return rows.length > 0;
}

/** True when the caller's user administers a team or an organization the invited user belongs to. */
async function administersUser(tx: Tx, callerId: string, user: UserRow): Promise<boolean> {
  const userInTeam = or(sql`${teams.team_id} = ANY(${sql.param(user.teams)}::text[])`, sql`${sql.param(user.user_id)} = ANY(${teams.members})`, membersInclude(teams.members_with_roles, user.user_id));
  const callerAdmin = or(sql`${sql.param(callerId)} = ANY(${teams.admins})`, sql`${teams.members_with_roles} @> ${sql.param(JSON.stringify([{ user_id: callerId, role: 'admin' }]))}::jsonb`);
  const [team] = await tx.select({ id: teams.team_id }).from(teams).where(and(userInTeam, callerAdmin)).limit(1);
  if (team) return true;
  const { rows } = await tx.execute<{ found: number }>(sql`
    SELECT 1 AS found FROM ${organizationMemberships} mine
    WHERE mine.user_id = ${callerId} AND mine.user_role = 'org_admin'
      AND (mine.organization_id = ${user.organization_id}
        OR EXISTS (SELECT 1 FROM ${organizationMemberships} theirs WHERE theirs.user_id = ${user.user_id} AND theirs.organization_id = mine.organization_id))
    LIMIT 1`);
  return rows.length > 0;
}

/**
 * True when `inviterId`, a user who is not a proxy admin, may act for `user` by link: the user holds no
 * admin role anywhere and is in a team or organization the inviter administers.
 */
export async function mayInvite(tx: Tx, inviterId: string, user: UserRow): Promise<boolean> {
  if (ADMIN_ROLES.has(user.user_role ?? '') || await administersAnything(tx, user.user_id)) return false;
  return administersUser(tx, inviterId, user);
}

/**
 * Refuses (403) a caller that may not create, change or delete invitation links for `user`: anyone but
 * proxy admins and the admins of the user's teams and organizations (see above).
 */
export async function requireInviter(c: AdminContext, tx: Tx, user: UserRow, what: string): Promise<void> {
  if (isProxyAdmin(c)) return;
  const callerId = callerUserId(c);
  if (callerId && await mayInvite(tx, callerId, user)) return;
  throw forbidden(`Only proxy admins, and admins of a team or organization user ${user.user_id} is in (a user with no admin role of its own), can ${what}. Your role=${c.get('role')}`);
}

/**
 * True when whoever created a link may still act for its user, checked when the link is claimed: a link
 * of the master key (or a proxy admin's key without a user) or of a user who is a proxy admin now stays
 * good; any other creator must pass mayInvite as things are now (a member promoted to an admin role, or
 * gone from the creator's team, is no longer the creator's to onboard).
 */
export async function creatorStillInvites(tx: Tx, createdBy: string, user: UserRow): Promise<boolean> {
  if (createdBy === PROXY_ADMIN_NAME) return true;
  const creator = await findUser(tx, createdBy);
  if (!creator) return false;
  return creator.user_role === 'proxy_admin' || mayInvite(tx, creator.user_id, user);
}
