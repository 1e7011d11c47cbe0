/**
 * `/team/delete`: the teams and, as LiteLLM documents, their keys. Teams are
 * copied to LiteLLM_DeletedTeamTable and keys to LiteLLM_DeletedVerificationToken,
 * all in one transaction; then each team's and key's limiter is told.
 */
import { Hono } from 'hono';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { deletedTeams, teamMemberships, type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import { requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { teamJson } from '../../lib/serialize.ts';
import { parseBody } from '../../lib/validation.ts';
import { actorName, type Changes, changedBy, commit, type Tx } from '../principals/mutation.ts';
import { removeKeys } from '../principals/remove-keys.ts';
import { anyOf } from '../principals/sql.ts';
import { dropTeamsFromUsers } from './membership.ts';
import { deleteTeamsBody } from './schemas.ts';
import { teamNotFound } from './store.ts';

export const teamDeleteRoutes = new Hono<AdminBindings>();

describeRoute({ method: 'post', path: '/team/delete', summary: 'Delete teams and their keys', tag: 'team management', body: deleteTeamsBody });
teamDeleteRoutes.post('/team/delete', async (c) => {
  requireProxyAdmin(c, 'delete teams');
  const { team_ids: teamIds } = await parseBody(c, deleteTeamsBody);
  const ids = [...new Set(teamIds)];
  await commit(c, async (tx, changes) => {
    const rows = await tx.select().from(teams).where(anyOf(teams.team_id, ids)).for('update');
    const missing = ids.find((id) => !rows.some((r) => r.team_id === id));
    if (missing) throw teamNotFound(missing);
    await removeTeams(c, tx, changes, rows);
  });
  return c.json({ deleted_teams: teamIds });
});

/** Deletes these (locked) teams with their keys, memberships and places in users' `teams`. */
export async function removeTeams(c: AdminContext, tx: Tx, changes: Changes, rows: TeamRow[]): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((r) => r.team_id);
  await removeKeys(c, tx, changes, anyOf(verificationTokens.team_id, ids));
  const deletedBy = actorName(c);
  await tx.insert(deletedTeams).values(rows.map((row) => ({
    ...row,
    deleted_by: deletedBy,
    deleted_by_api_key: c.get('caller').token,
    litellm_changed_by: changedBy(c),
  })));
  await dropTeamsFromUsers(tx, ids);
  await tx.delete(teamMemberships).where(anyOf(teamMemberships.team_id, ids));
  await tx.delete(teams).where(anyOf(teams.team_id, ids));
  for (const row of rows) {
    await changes.audit({ action: 'deleted', table: 'LiteLLM_TeamTable', objectId: row.team_id, before: teamJson(row) });
    changes.refresh('team', row.team_id);
  }
}
