/**
 * `/organization/member_add`: LiteLLM_OrganizationMembership rows, creating
 * users that do not exist yet (as LiteLLM's add_member_to_organization does).
 */
import { and, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { z } from 'zod';
import { type OrganizationMembershipRow, organizationMemberships, users, type UserRow } from '../../../drizzle/schema/principals.ts';
import { callerUserId, isProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { organizationMembershipJson, userJson } from '../../lib/serialize.ts';
import { badRequest, notFound, parseBody } from '../../lib/validation.ts';
import { createBudget } from '../budgets/rows.ts';
import { forbidden } from '../principals/access.ts';
import { assertNonNegative, refuseReservedUserId } from '../principals/fields.ts';
import { actorName, type Changes, commit, type Tx } from '../principals/mutation.ts';
import { type OrganizationMemberInput, organizationMemberAddBody, organizationMemberDeleteBody, organizationMemberUpdateBody } from './schemas.ts';
import { type InternalUserBudget, newInternalUserBudget } from '../users/values.ts';
import { findOrganization, membershipsOf } from './store.ts';

export const organizationMemberRoutes = new Hono<AdminBindings>();

/** The member's user row, created (role internal_user, with `newUser`'s budget) when neither its id nor its email is known. */
async function memberUser(tx: Tx, changes: Changes, member: OrganizationMemberInput, newUser: InternalUserBudget): Promise<UserRow> {
  if (member.user_id) {
    const [found] = await tx.select().from(users).where(eq(users.user_id, member.user_id)).limit(1);
    if (found) return found;
  } else {
    const found = await tx.select().from(users).where(sql`lower(${users.user_email}) = lower(${member.user_email})`).limit(2);
    if (found.length > 1) throw badRequest("Multiple users with this email found in db. Please use 'user_id' instead.", 'user_email');
    if (found[0]) return found[0];
  }
  const [created] = await tx.insert(users).values({
    ...newUser, user_id: member.user_id ?? crypto.randomUUID(), user_email: member.user_email ?? null, user_role: 'internal_user',
  }).returning() as [UserRow];
  await changes.audit({ action: 'created', table: 'LiteLLM_UserTable', objectId: created.user_id, after: userJson(created) });
  changes.refresh('user', created.user_id);
  return created;
}

/** Org admins manage their own organization's members (LiteLLM's org_admin role); proxy admins any. */
async function requireOrgAdmin(c: AdminContext, organizationId: string, action: string): Promise<void> {
  if (isProxyAdmin(c)) return;
  const mine = await membershipsOf(c.get('db')().db, callerUserId(c));
  if (!mine.some((m) => m.organization_id === organizationId && m.user_role === 'org_admin')) {
    throw forbidden(`Only proxy admins or org admins of organization=${organizationId} can ${action}.`);
  }
}

/** The membership a member_update / member_delete names (by user_id, else user_email), locked; 404 when there is none. */
async function findMembership(tx: Tx, body: { organization_id: string; user_id?: string | null; user_email?: string | null }): Promise<OrganizationMembershipRow> {
  let userId = body.user_id ?? undefined;
  if (!userId && body.user_email) {
    const found = await tx.select({ id: users.user_id }).from(users).where(sql`lower(${users.user_email}) = lower(${body.user_email})`).limit(2);
    if (found.length > 1) throw badRequest("Multiple users with this email found in db. Please use 'user_id' instead.", 'user_email');
    userId = found[0]?.id;
  }
  const [membership] = userId
    ? await tx.select().from(organizationMemberships)
      .where(and(eq(organizationMemberships.user_id, userId), eq(organizationMemberships.organization_id, body.organization_id))).limit(1).for('update')
    : [];
  if (!membership) throw notFound(`User=${userId ?? body.user_email} is not a member of organization=${body.organization_id}`);
  return membership;
}

/**
 * A member_update or member_delete: the body read (naming the member by user_id or user_email), the
 * caller an admin of the organization, the organization and the membership locked; `change` returns the
 * membership row to answer with.
 */
async function changeMembership<B extends { organization_id: string; user_id?: string | null; user_email?: string | null }>(
  c: AdminContext,
  schema: z.ZodType<B>,
  action: string,
  change: (tx: Tx, changes: Changes, body: B, membership: OrganizationMembershipRow) => Promise<OrganizationMembershipRow>,
): Promise<Response> {
  const body = await parseBody(c, schema);
  if (!body.user_id && !body.user_email) throw badRequest('Either user_id or user_email needs to be passed in', 'user_id');
  await requireOrgAdmin(c, body.organization_id, action);
  const row = await commit(c, async (tx, changes) => {
    await findOrganization(tx, body.organization_id, { forUpdate: true });
    return change(tx, changes, body, await findMembership(tx, body));
  });
  return c.json(organizationMembershipJson(row));
}

describeRoute({ method: 'post', path: '/organization/member_update', summary: "Change a member's role or budget in the organization", tag: 'organization management', body: organizationMemberUpdateBody });
organizationMemberRoutes.post('/organization/member_update', (c) => changeMembership(c, organizationMemberUpdateBody, 'update members', async (tx, changes, body, before) => {
  assertNonNegative(body, ['max_budget_in_organization']);
  const set: Partial<OrganizationMembershipRow> = { updated_at: new Date() };
  if (body.role) set.user_role = body.role;
  if (body.max_budget_in_organization != null) {
    set.budget_id = (await createBudget(tx, changes, { max_budget: body.max_budget_in_organization }, actorName(c))).budget_id;
  }
  const [after] = await tx.update(organizationMemberships).set(set)
    .where(and(eq(organizationMemberships.user_id, before.user_id), eq(organizationMemberships.organization_id, body.organization_id))).returning() as [OrganizationMembershipRow];
  await changes.audit({ action: 'updated', table: 'LiteLLM_OrganizationMembership', objectId: `${before.user_id}:${body.organization_id}`, before, after });
  changes.refresh('user', before.user_id);
  return after;
}));

describeRoute({ method: 'post', path: '/organization/member_delete', summary: 'Remove a user from an organization', tag: 'organization management', body: organizationMemberDeleteBody });
organizationMemberRoutes.post('/organization/member_delete', (c) => changeMembership(c, organizationMemberDeleteBody, 'remove members', async (tx, changes, body, membership) => {
  await tx.delete(organizationMemberships)
    .where(and(eq(organizationMemberships.user_id, membership.user_id), eq(organizationMemberships.organization_id, body.organization_id)));
  await changes.audit({ action: 'deleted', table: 'LiteLLM_OrganizationMembership', objectId: `${membership.user_id}:${body.organization_id}`, before: membership });
  changes.refresh('user', membership.user_id);
  changes.refresh('org', body.organization_id);
  return membership;
}));

describeRoute({ method: 'post', path: '/organization/member_add', summary: 'Add users to an organization', tag: 'organization management', body: organizationMemberAddBody });
organizationMemberRoutes.post('/organization/member_add', async (c) => {
  const body = await parseBody(c, organizationMemberAddBody);
  assertNonNegative(body, ['max_budget_in_organization']);
  refuseReservedUserId(body.member.map((m) => m.user_id), 'member');
  await requireOrgAdmin(c, body.organization_id, 'add members');
  const newUser = await newInternalUserBudget(c);
  const result = await commit(c, async (tx, changes) => {
    await findOrganization(tx, body.organization_id, { forUpdate: true });
    const out = { users: [] as UserRow[], memberships: [] as OrganizationMembershipRow[] };
    for (const member of body.member) {
      const user = await memberUser(tx, changes, member, newUser);
      const [taken] = await tx.select().from(organizationMemberships)
        .where(and(eq(organizationMemberships.user_id, user.user_id), eq(organizationMemberships.organization_id, body.organization_id))).limit(1);
      if (taken) throw badRequest(`User=${user.user_id} is already a member of organization=${body.organization_id}`, 'member');
      const budgetId = body.max_budget_in_organization != null
        ? (await createBudget(tx, changes, { max_budget: body.max_budget_in_organization }, actorName(c))).budget_id
        : null;
      const [membership] = await tx.insert(organizationMemberships)
        .values({ user_id: user.user_id, organization_id: body.organization_id, user_role: member.role, budget_id: budgetId })
        .returning() as [OrganizationMembershipRow];
      await changes.audit({ action: 'created', table: 'LiteLLM_OrganizationMembership', objectId: `${user.user_id}:${body.organization_id}`, after: membership });
      changes.refresh('user', user.user_id);
      out.users.push(user);
      out.memberships.push(membership);
    }
    changes.refresh('org', body.organization_id);
    return out;
  });
  return c.json({
    organization_id: body.organization_id,
    updated_users: result.users.map(userJson),
    updated_organization_memberships: result.memberships.map(organizationMembershipJson),
  });
});
