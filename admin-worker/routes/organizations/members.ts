/**
 * `/organization/member_add`: LiteLLM_OrganizationMembership rows, creating
 * users that do not exist yet (as LiteLLM's add_member_to_organization does).
 */
import { and, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { type OrganizationMembershipRow, organizationMemberships, users, type UserRow } from '../../../drizzle/schema/principals.ts';
import { isProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { organizationMembershipJson, userJson } from '../../lib/serialize.ts';
import { badRequest, parseBody } from '../../lib/validation.ts';
import { createBudget } from '../budgets/rows.ts';
import { callerUserId, forbidden } from '../principals/access.ts';
import { assertNonNegative } from '../principals/fields.ts';
import { actorName, type Changes, commit, type Tx } from '../principals/mutation.ts';
import { type OrganizationMemberInput, organizationMemberAddBody } from './schemas.ts';
import { findOrganization, membershipsOf } from './store.ts';

export const organizationMemberRoutes = new Hono<AdminBindings>();

/** The member's user row, created (role internal_user) when neither its id nor its email is known. */
async function memberUser(tx: Tx, changes: Changes, member: OrganizationMemberInput): Promise<UserRow> {
  if (member.user_id) {
    const [found] = await tx.select().from(users).where(eq(users.user_id, member.user_id)).limit(1);
    if (found) return found;
  } else {
    const found = await tx.select().from(users).where(sql`lower(${users.user_email}) = lower(${member.user_email})`).limit(2);
    if (found.length > 1) throw badRequest("Multiple users with this email found in db. Please use 'user_id' instead.", 'user_email');
    if (found[0]) return found[0];
  }
  const [created] = await tx.insert(users).values({
    user_id: member.user_id ?? crypto.randomUUID(), user_email: member.user_email ?? null, user_role: 'internal_user',
  }).returning() as [UserRow];
  await changes.audit({ action: 'created', table: 'LiteLLM_UserTable', objectId: created.user_id, after: userJson(created) });
  changes.refresh('user', created.user_id);
  return created;
}

describeRoute({ method: 'post', path: '/organization/member_add', summary: 'Add users to an organization', tag: 'organization management', body: organizationMemberAddBody });
organizationMemberRoutes.post('/organization/member_add', async (c) => {
  const body = await parseBody(c, organizationMemberAddBody);
  assertNonNegative(body, ['max_budget_in_organization']);
  const { db } = c.get('db')();
  if (!isProxyAdmin(c)) {
    // Org admins manage their own organization's members (LiteLLM's org_admin role).
    const mine = await membershipsOf(db, callerUserId(c));
    if (!mine.some((m) => m.organization_id === body.organization_id && m.user_role === 'org_admin')) {
      throw forbidden(`Only proxy admins or org admins of organization=${body.organization_id} can add members.`);
    }
  }
  const result = await commit(c, async (tx, changes) => {
    await findOrganization(tx, body.organization_id, { forUpdate: true });
    const out = { users: [] as UserRow[], memberships: [] as OrganizationMembershipRow[] };
    for (const member of body.member) {
      const user = await memberUser(tx, changes, member);
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
