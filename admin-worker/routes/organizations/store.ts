/** Reading organizations with their budget, memberships and teams. */
import type { BudgetClock } from '../../lib/budget-limits.ts';
import { eq, type SQL } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { budgets } from '../../../drizzle/schema/budgets.ts';
import { organizationMemberships, type OrganizationRow, organizations } from '../../../drizzle/schema/principals.ts';
import { teams } from '../../../drizzle/schema/teams.ts';
import { type Json, organizationJson } from '../../lib/serialize.ts';
import { notFound } from '../../lib/validation.ts';
import type { Tx } from '../principals/mutation.ts';
import { anyOf } from '../principals/sql.ts';

type Reader = Tx | NeonDatabase;

export const organizationNotFound = (id: string) => notFound(`Organization not found, passed organization_id=${id}`);

export async function findOrganization(db: Reader, id: string, options: { forUpdate?: boolean } = {}): Promise<OrganizationRow> {
  const query = db.select().from(organizations).where(eq(organizations.organization_id, id)).limit(1);
  const [row] = options.forUpdate ? await query.for('update') : await query;
  if (!row) throw organizationNotFound(id);
  return row;
}

/** Organizations matching `where`, each with `litellm_budget_table`, `members` and `teams` (LiteLLM_OrganizationTableWithMembers). */
export async function organizationsJson(db: Reader, where?: SQL, clock?: BudgetClock): Promise<Json[]> {
  const rows = await db.select({ org: organizations, budget: budgets }).from(organizations)
    .leftJoin(budgets, eq(budgets.budget_id, organizations.budget_id))
    .where(where).orderBy(organizations.created_at, organizations.organization_id);
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.org.organization_id);
  const members = await db.select().from(organizationMemberships).where(anyOf(organizationMemberships.organization_id, ids))
    .orderBy(organizationMemberships.created_at);
  const teamRows = await db.select().from(teams).where(anyOf(teams.organization_id, ids)).orderBy(teams.team_created_at);
  return rows.map(({ org, budget }) => organizationJson(org, {
    budget,
    members: members.filter((m) => m.organization_id === org.organization_id),
    teams: teamRows.filter((t) => t.organization_id === org.organization_id),
    ...(clock ? { clock } : {}),
  }));
}

export async function organizationDetail(db: Reader, id: string, clock?: BudgetClock): Promise<Json> {
  const [row] = await organizationsJson(db, eq(organizations.organization_id, id), clock);
  if (!row) throw organizationNotFound(id);
  return row;
}

/** The caller's organization memberships (for org admins and members, who see their own organizations). */
export async function membershipsOf(db: Reader, userId: string | null) {
  if (!userId) return [];
  return db.select().from(organizationMemberships).where(eq(organizationMemberships.user_id, userId));
}
