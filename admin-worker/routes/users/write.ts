/** `/user/new`, `/user/update` and `/user/bulk_update`. */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { organizationMemberships, users, type UserRow } from '../../../drizzle/schema/principals.ts';
import { type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import { newPlainKey } from '../../../worker/auth/secrets.ts';
import { gatewayState } from '../../../worker/state.ts';
import { callerUserId, isProxyAdmin, requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { keyJson, teamJson, userJson } from '../../lib/serialize.ts';
import { badRequest, notFound, parseBody } from '../../lib/validation.ts';
import { budgetTimeZone } from '../budgets/rows.ts';
import { forbidden } from '../principals/access.ts';
import { assertNonNegative, refuseReservedUserId } from '../principals/fields.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { addTeamMembers } from '../teams/membership.ts';
import { requireOrganization } from '../teams/store.ts';
import { bulkUpdateUsersBody, newUserBody, type NewUserBody, type UpdateUserBody, USER_MONEY_FIELDS, updateUserBody } from './schemas.ts';
import { failureReason } from '../../lib/pg-error.ts';
import { requireAdminForPrivilegedFields } from '../../lib/env-refs.ts';
import { keptGrant } from '../keys/fields.ts';
import { assertUserIsNew, findUser, findUserByEmail } from './store.ts';
import { emailInvitation, invitationSetup } from '../../email/events.ts';
import { insertInvitation } from '../invitations/rows.ts';
import { newUserRow, personalKeyRow, SELF_SERVICE_FIELDS, userPatch, withInternalUserBudget } from './values.ts';

export const userWriteRoutes = new Hono<AdminBindings>();
const TAG = 'Internal User management';
const TABLE = 'LiteLLM_UserTable';

/** The teams /user/new joins: `teams` plus the deprecated `team_id`, each once. */
function requestedTeams(body: NewUserBody) {
  const all = [...(body.teams ?? []), ...(body.team_id ? [{ team_id: body.team_id, max_budget_in_team: null, user_role: 'user' as const }] : [])];
  return all.filter((t, i) => all.findIndex((o) => o.team_id === t.team_id) === i);
}

describeRoute({ method: 'post', path: '/user/new', summary: 'Create a user (and, by default, a key for it)', tag: TAG, body: newUserBody });
userWriteRoutes.post('/user/new', async (c) => {
  requireProxyAdmin(c, 'create users');
  const { config } = await gatewayState(c.env);
  const body = withInternalUserBudget(await parseBody(c, newUserBody), config.litellm_settings);
  assertNonNegative(body, USER_MONEY_FIELDS);
  refuseReservedUserId([body.user_id]);
  const joins = requestedTeams(body);
  for (const t of joins) assertNonNegative(t, ['max_budget_in_team']);
  const timeZone = await budgetTimeZone(c);
  const userId = body.user_id ?? crypto.randomUUID();
  const plain = body.auto_create_key ? newPlainKey() : null;
  const actor = actorName(c);
  // LiteLLM's invitation email: with a link the new user accepts, created with the user.
  const invite = body.send_invite_email ? await invitationSetup(c, body.user_email) : undefined;
  const result = await commit(c, async (tx, changes) => {
    await assertUserIsNew(tx, body.user_id, body.user_email);
    const joinRows: TeamRow[] = [];
    for (const { team_id: teamId } of joins) {
      const [row] = await tx.select().from(teams).where(eq(teams.team_id, teamId)).for('update');
      if (!row) throw badRequest(`Team not found, passed team_id=${teamId}`, 'teams');
      joinRows.push(row);
    }
    for (const organizationId of body.organizations ?? []) await requireOrganization(tx, organizationId);

    const [created] = await tx.insert(users).values(newUserRow(body, userId, timeZone)).returning() as [UserRow];
    await changes.audit({ action: 'created', table: TABLE, objectId: userId, after: userJson(created) });
    changes.refresh('user', userId);
    for (const [i, team] of joinRows.entries()) {
      const join = joins[i]!;
      const added = await addTeamMembers(tx, changes, team, [{ role: join.user_role, user_id: userId, user_email: body.user_email }], {
        maxBudgetInTeam: join.max_budget_in_team, actor,
      });
      const [updated] = await tx.update(teams).set({ members_with_roles: added.members }).where(eq(teams.team_id, team.team_id)).returning() as [TeamRow];
      await changes.audit({ action: 'updated', table: 'LiteLLM_TeamTable', objectId: team.team_id, before: teamJson(team), after: teamJson(updated) });
      changes.refresh('team', team.team_id);
    }
    for (const organizationId of new Set(body.organizations ?? [])) {
      await tx.insert(organizationMemberships).values({ user_id: userId, organization_id: organizationId, user_role: 'internal_user' }).onConflictDoNothing();
    }
    let key = null;
    if (plain) {
      [key] = await tx.insert(verificationTokens).values(await personalKeyRow(plain, created, body, actor)).returning();
      await changes.audit({ action: 'created', table: 'LiteLLM_VerificationToken', objectId: key!.token, after: keyJson(key!) });
    }
    const invitation = invite?.settings ? await insertInvitation(tx, changes, userId, actor) : undefined;
    return { user: (await findUser(tx, userId)) as UserRow, key, invitation };
  }, { onDuplicate: () => badRequest(`User with id ${userId} already exists`, 'user_id') });
  if (invite) emailInvitation(c, invite, body.user_email, result.invitation?.id);
  return c.json({
    ...userJson(result.user),
    key: plain,
    key_alias: result.key?.key_alias ?? null,
    expires: result.key?.expires ?? null,
  });
});

describeRoute({ method: 'post', path: '/user/update', summary: 'Update a user (only the given fields; null clears)', tag: TAG, body: updateUserBody });
userWriteRoutes.post('/user/update', async (c) => {
  const body = await parseBody(c, updateUserBody);
  const user = await applyUserUpdate(c, body);
  return c.json({ user_id: user.user_id, data: userJson(user) });
});

describeRoute({ method: 'post', path: '/user/bulk_update', summary: 'Several user updates, or one update for every user (up to 1000), each on its own', tag: TAG, body: bulkUpdateUsersBody });
userWriteRoutes.post('/user/bulk_update', async (c) => {
  requireProxyAdmin(c, 'bulk update users');
  const body = await parseBody(c, bulkUpdateUsersBody);
  let updates: UpdateUserBody[];
  if (body.all_users) {
    const rows = await c.get('db')().db.select({ id: users.user_id }).from(users).orderBy(users.user_id).limit(MAX_BULK_USERS + 1);
    if (rows.length > MAX_BULK_USERS) throw badRequest(`More than ${MAX_BULK_USERS} users: update them in lists of at most ${MAX_BULK_USERS} with "users"`, 'all_users');
    updates = rows.map((r) => ({ ...body.user_updates, user_id: r.id }));
  } else {
    updates = body.users ?? [];
  }
  const results: { user_id: string | null; user_email: string | null; success: boolean; error: string | null; updated_user: Record<string, unknown> | null }[] = [];
  for (const update of updates) {
    try {
      const row = await applyUserUpdate(c, update);
      results.push({ user_id: row.user_id, user_email: row.user_email ?? null, success: true, error: null, updated_user: userJson(row) });
    } catch (err) {
      // Each update on its own: a refused one is named, the others stand.
      results.push({ user_id: update.user_id ?? null, user_email: update.user_email ?? null, success: false, error: failureReason(err, 'user bulk update'), updated_user: null });
    }
  }
  const ok = results.filter((r) => r.success).length;
  return c.json({ results, total_requested: updates.length, successful_updates: ok, failed_updates: results.length - ok });
});

const MAX_BULK_USERS = 1000;

/** One user's update, checked (who may change what) and written in its own audited transaction; the updated row. */
async function applyUserUpdate(c: AdminContext, body: UpdateUserBody): Promise<UserRow> {
  if (!body.user_id && !body.user_email) throw badRequest('Either user_id or user_email must be provided', 'user_id');
  assertNonNegative(body, USER_MONEY_FIELDS);
  const timeZone = await budgetTimeZone(c);
  const { user_id: userId, ...fields } = body;
  // Found by email, the email identifies the user; it is not a change.
  if (!userId) delete fields.user_email;
  return await commit(c, async (tx, changes) => {
    const existing = userId ? await findUser(tx, userId, { forUpdate: true }) : await findUserByEmail(tx, body.user_email as string);
    if (!existing) throw notFound(`User not found, passed ${userId ? `user_id=${userId}` : `user_email=${body.user_email}`}`);
    if (!isProxyAdmin(c)) {
      if (callerUserId(c) !== existing.user_id) throw forbidden('User does not have permission to update this user. Only PROXY_ADMIN can update other users.');
      if (fields.user_role !== undefined) throw forbidden('Only proxy admins can modify user roles.');
      // Its email as it is (a form sent back whole) is no change.
      if (fields.user_email !== undefined && fields.user_email === existing.user_email) delete fields.user_email;
      const other = Object.keys(fields).find((f) => fields[f as keyof typeof fields] !== undefined && !SELF_SERVICE_FIELDS.has(f));
      if (other) throw forbidden(`Only proxy admins can change ${other} of a user.`);
      // A user's metadata.object_permission grants a team-less JWT caller its search tools (limits/jwt-policy.ts):
      // the user may not write it, nor drop the one an admin set by replacing its metadata.
      requireAdminForPrivilegedFields(c, { metadata: fields.metadata });
      if (fields.metadata !== undefined) fields.metadata = { ...keptGrant(existing.metadata), ...(fields.metadata ?? {}) };
    }
    const patch = userPatch(fields, timeZone);
    if (Object.keys(patch).length === 0) return existing;
    const [row] = await tx.update(users).set(patch).where(eq(users.user_id, existing.user_id)).returning() as [UserRow];
    await changes.audit({ action: 'updated', table: TABLE, objectId: row.user_id, before: userJson(existing), after: userJson(row) });
    changes.refresh('user', row.user_id);
    return row;
  });
}
