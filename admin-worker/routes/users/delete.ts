/**
 * `/user/delete`: the users and, as LiteLLM does, their keys (copied to
 * LiteLLM_DeletedVerificationToken), memberships and places in teams.
 */
import { or, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { organizationMemberships, users } from '../../../drizzle/schema/principals.ts';
import { teamMemberships, teams } from '../../../drizzle/schema/teams.ts';
import { requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { userJson } from '../../lib/serialize.ts';
import { parseBody } from '../../lib/validation.ts';
import { commit } from '../principals/mutation.ts';
import { removeKeys } from '../principals/remove-keys.ts';
import { anyOf, listWithout, membersIncludeAny, membersWithout, textArray } from '../principals/sql.ts';
import { deleteUsersBody } from './schemas.ts';
import { userNotFound } from './store.ts';

export const userDeleteRoutes = new Hono<AdminBindings>();

describeRoute({ method: 'post', path: '/user/delete', summary: 'Delete users and their keys', tag: 'Internal User management', body: deleteUsersBody });
userDeleteRoutes.post('/user/delete', async (c) => {
  requireProxyAdmin(c, 'delete users');
  const { user_ids: userIds } = await parseBody(c, deleteUsersBody);
  const ids = [...new Set(userIds)];
  const deleted = await commit(c, async (tx, changes) => {
    const rows = await tx.select().from(users).where(anyOf(users.user_id, ids)).for('update');
    const missing = ids.find((id) => !rows.some((r) => r.user_id === id));
    if (missing) throw userNotFound(missing);
    await removeKeys(c, tx, changes, anyOf(verificationTokens.user_id, ids));
    // Every list that names them, the legacy `admins` / `members` too: an id left there would still count as a
    // member (whom a team admin may key: keys/access.ts requireAssignableUser) and an admin.
    const listed = sql`(${teams.admins} && ${textArray(ids)} OR ${teams.members} && ${textArray(ids)})`;
    const touched = await tx.update(teams)
      .set({
        members_with_roles: membersWithout(teams.members_with_roles, ids),
        admins: listWithout(teams.admins, ids), members: listWithout(teams.members, ids),
      })
      .where(or(membersIncludeAny(teams.members_with_roles, ids), listed))
      .returning({ team_id: teams.team_id });
    for (const { team_id } of touched) changes.refresh('team', team_id);
    await tx.delete(organizationMemberships).where(anyOf(organizationMemberships.user_id, ids));
    await tx.delete(teamMemberships).where(anyOf(teamMemberships.user_id, ids));
    await tx.delete(users).where(anyOf(users.user_id, ids));
    for (const row of rows) {
      await changes.audit({ action: 'deleted', table: 'LiteLLM_UserTable', objectId: row.user_id, before: userJson(row) });
      changes.refresh('user', row.user_id);
    }
    return rows.length;
  });
  // LiteLLM answers with Prisma's delete_many result: the number of users deleted.
  return c.json(deleted);
});
