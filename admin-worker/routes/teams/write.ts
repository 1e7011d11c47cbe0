/** `/team/new`, `/team/update`, `/team/block`, `/team/unblock`. */
import type { LoggerEnv } from '../../queues/callbacks/loggers/types.ts';
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import { callerUserId, isProxyAdmin, requireProxyAdmin } from '../../lib/auth.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { teamJson } from '../../lib/serialize.ts';
import { requireAdminForPrivilegedFields } from '../../lib/env-refs.ts';
import { checkedSentBack } from '../../lib/logging-sent-back.ts';
import { refuseMaskedLogging } from '../../lib/secret-mask.ts';
import { checkLoggingMetadata } from '../../lib/logging-vars.ts';
import { badRequest, parseBody } from '../../lib/validation.ts';
import { forbidden, requireTeamAdmin } from '../principals/access.ts';
import { assertNonNegative, refuseReservedUserId } from '../principals/fields.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { newInternalUserBudget } from '../users/values.ts';
import { addTeamMembers } from './membership.ts';
import { newTeamBody, TEAM_MONEY_FIELDS, teamIdBody, teamModelsBody, updateTeamBody, type UpdateTeamBody } from './schemas.ts';
import { findTeam, requireOrganization } from './store.ts';
import { ADMIN_ONLY_TEAM_FIELDS, newTeamRow, teamPatch } from './values.ts';

export const teamWriteRoutes = new Hono<AdminBindings>();
const TAG = 'team management';
const TABLE = 'LiteLLM_TeamTable';

describeRoute({ method: 'post', path: '/team/new', summary: 'Create a team', tag: TAG, body: newTeamBody });
teamWriteRoutes.post('/team/new', async (c) => {
  requireProxyAdmin(c, 'create teams');
  const body = await parseBody(c, newTeamBody);
  requireAdminForPrivilegedFields(c, body);
  refuseMaskedLogging(body.metadata);
  checkLoggingMetadata(body.metadata, c.env as unknown as LoggerEnv);
  assertNonNegative(body, TEAM_MONEY_FIELDS);
  refuseReservedUserId((body.members_with_roles ?? []).map((m) => m.user_id), 'members_with_roles');
  const clock = await budgetClock(c);
  const teamId = body.team_id ?? crypto.randomUUID();
  const duplicate = () => badRequest(`Team id = ${teamId} already exists. Please use a different team id.`, 'team_id');
  const newUser = await newInternalUserBudget(c);
  const team = await commit(c, async (tx, changes) => {
    if (body.team_id) {
      const [existing] = await tx.select({ id: teams.team_id }).from(teams).where(eq(teams.team_id, teamId)).limit(1);
      if (existing) throw duplicate();
    }
    if (body.organization_id) await requireOrganization(tx, body.organization_id);
    // LiteLLM makes a creating user (not the master key) an admin of the new team.
    const members = [...(body.members_with_roles ?? [])];
    const creator = callerUserId(c);
    if (creator && !members.some((m) => m.user_id === creator)) members.push({ role: 'admin', user_id: creator });
    const [created] = await tx.insert(teams).values(newTeamRow(body, teamId, clock)).returning();
    let row = created as TeamRow;
    if (members.length) {
      const added = await addTeamMembers(tx, changes, row, members, { actor: actorName(c), newUser });
      [row] = await tx.update(teams).set({ members_with_roles: added.members }).where(eq(teams.team_id, teamId)).returning() as [TeamRow];
    }
    await changes.audit({ action: 'created', table: TABLE, objectId: teamId, after: teamJson(row) });
    changes.refresh('team', teamId);
    return row;
  }, { onDuplicate: duplicate });
  return c.json(teamJson(team, clock));
});

describeRoute({ method: 'post', path: '/team/update', summary: 'Update a team (only the given fields; null clears)', tag: TAG, body: updateTeamBody });
teamWriteRoutes.post('/team/update', async (c) => {
  const body = await parseBody(c, updateTeamBody);
  assertNonNegative(body, TEAM_MONEY_FIELDS);
  const clock = await budgetClock(c);
  const { team_id: teamId } = body;
  const team = await commit(c, async (tx, changes) => {
    const existing = await findTeam(tx, teamId, { forUpdate: true });
    requireTeamAdmin(c, existing, '/team/update');
    // Metadata replaces the stored one (as in LiteLLM), its logging secrets sent back masked kept.
    const fields = checkedSentBack(c, body, existing.metadata);
    if (!isProxyAdmin(c)) checkTeamAdminUpdate(fields, existing);
    if (fields.organization_id) await requireOrganization(tx, fields.organization_id);
    const patch = teamPatch(fields, existing, clock);
    if (Object.keys(patch).length === 0) return existing;
    const [row] = await tx.update(teams).set(patch).where(eq(teams.team_id, teamId)).returning() as [TeamRow];
    await changes.audit({ action: 'updated', table: TABLE, objectId: teamId, before: teamJson(existing), after: teamJson(row) });
    changes.refresh('team', teamId);
    return row;
  });
  return c.json({ team_id: team.team_id, data: teamJson(team, clock) });
});

/**
 * LiteLLM's `/team/model/add` and `/team/model/delete`: the team's model list
 * with the given models added or taken out, by whoever may update the team,
 * answered with the team. As in LiteLLM, adding to a team that may call every
 * model (`models: []`) leaves it the added ones only. Taking out the last
 * model is refused, since an empty list would let the team call everything.
 */
for (const [path, adding] of [['/team/model/add', true], ['/team/model/delete', false]] as const) {
  describeRoute({ method: 'post', path, summary: adding ? "Add models to a team's list" : "Take models out of a team's list", tag: TAG, body: teamModelsBody });
  teamWriteRoutes.post(path, async (c) => {
    const { team_id: teamId, models } = await parseBody(c, teamModelsBody);
    const clock = await budgetClock(c);
    const team = await commit(c, async (tx, changes) => {
      const existing = await findTeam(tx, teamId, { forUpdate: true });
      requireTeamAdmin(c, existing, path);
      const next = adding ? [...new Set([...existing.models, ...models])] : existing.models.filter((m) => !models.includes(m));
      if (!adding && next.length === 0 && existing.models.length > 0) {
        throw badRequest(`Taking out every model of team ${teamId} would let it call all models (an empty list means all); use /team/update with "models": [] to do that`, 'models');
      }
      if (next.length === existing.models.length && next.every((m, i) => m === existing.models[i])) return existing;
      if (!isProxyAdmin(c)) checkTeamAdminUpdate({ models: next }, existing);
      const [row] = await tx.update(teams).set(teamPatch({ models: next }, existing, clock)).where(eq(teams.team_id, teamId)).returning() as [TeamRow];
      await changes.audit({ action: 'updated', table: TABLE, objectId: teamId, before: teamJson(existing), after: teamJson(row) });
      changes.refresh('team', teamId);
      return row;
    });
    return c.json(teamJson(team, clock));
  });
}

const pyFloat = (n: number) => (Number.isInteger(n) ? n.toFixed(1) : String(n));

/**
 * What a team admin may not do to their own team (current LiteLLM): move it
 * to another organization, block it, raise its max_budget or remove the cap.
 * Keeping or lowering the budget, and limits, models, alias and metadata, are theirs.
 * The same holds for each `budget_limits` window: a team admin may add windows
 * and lower them, not raise or drop one.
 */
function checkTeamAdminUpdate(body: Omit<UpdateTeamBody, 'team_id'>, existing: TeamRow): void {
  for (const field of ADMIN_ONLY_TEAM_FIELDS) {
    if (body[field] !== undefined) throw forbidden(`Only proxy admins can change ${field} of a team.`);
  }
  const current = existing.max_budget;
  if (body.max_budget === null && current !== null) {
    throw forbidden(`Only a proxy admin can remove a team's max_budget. Team's current max_budget=${pyFloat(current)}.`);
  }
  if (typeof body.max_budget === 'number' && current !== null && body.max_budget > current) {
    throw forbidden(`Only a proxy admin can raise a team's max_budget. Team's current max_budget=${pyFloat(current)}, requested=${pyFloat(body.max_budget)}.`);
  }
  if (body.budget_limits === undefined) return;
  for (const window of existing.budget_limits ?? []) {
    const kept = body.budget_limits?.find((w) => w.budget_duration === window.budget_duration);
    if (!kept) throw forbidden(`Only a proxy admin can remove a team's ${window.budget_duration} budget limit (max_budget=${pyFloat(window.max_budget)}).`);
    if (kept.max_budget > window.max_budget) {
      throw forbidden(`Only a proxy admin can raise a team's ${window.budget_duration} budget limit. Current max_budget=${pyFloat(window.max_budget)}, requested=${pyFloat(kept.max_budget)}.`);
    }
  }
}

for (const [path, blocked] of [['/team/block', true], ['/team/unblock', false]] as const) {
  describeRoute({ method: 'post', path, summary: blocked ? 'Block every key of a team' : 'Unblock a team', tag: TAG, body: teamIdBody });
  teamWriteRoutes.post(path, (c) => setBlocked(c, blocked));
}

async function setBlocked(c: AdminContext, blocked: boolean): Promise<Response> {
  requireProxyAdmin(c, blocked ? 'block teams' : 'unblock teams');
  const { team_id: teamId } = await parseBody(c, teamIdBody);
  const team = await commit(c, async (tx, changes) => {
    const existing = await findTeam(tx, teamId, { forUpdate: true });
    const [row] = await tx.update(teams).set({ blocked }).where(eq(teams.team_id, teamId)).returning() as [TeamRow];
    await changes.audit({ action: blocked ? 'blocked' : 'unblocked', table: TABLE, objectId: teamId, before: teamJson(existing), after: teamJson(row) });
    changes.refresh('team', teamId);
    return row;
  });
  return c.json(teamJson(team, await budgetClock(c)));
}
