/** Reading teams and what hangs off them (keys, memberships with their budgets). */
import { eq } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { budgets } from '../../../drizzle/schema/budgets.ts';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { organizations } from '../../../drizzle/schema/principals.ts';
import { teamMemberships, type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import type { BudgetClock } from '../../lib/budget-limits.ts';
import { type Json, keyJson, teamMembershipJson } from '../../lib/serialize.ts';
import { badRequest, notFound } from '../../lib/validation.ts';
import type { Tx } from '../principals/mutation.ts';
import { anyOf } from '../principals/sql.ts';

type Reader = Tx | NeonDatabase;

export const teamNotFound = (teamId: string) => notFound(`Team not found, passed team_id=${teamId}`);

/** The team, locked for the rest of the transaction when `forUpdate` (member changes read-modify-write it). */
export async function findTeam(db: Reader, teamId: string, options: { forUpdate?: boolean } = {}): Promise<TeamRow> {
  const query = db.select().from(teams).where(eq(teams.team_id, teamId)).limit(1);
  const [row] = options.forUpdate ? await query.for('update') : await query;
  if (!row) throw teamNotFound(teamId);
  return row;
}

/** A team's organization must exist (there is no foreign key: LiteLLM has none either). */
export async function requireOrganization(db: Reader, organizationId: string): Promise<void> {
  const [row] = await db.select({ id: organizations.organization_id }).from(organizations)
    .where(eq(organizations.organization_id, organizationId)).limit(1);
  if (!row) throw badRequest(`Organization not found, passed organization_id=${organizationId}`, 'organization_id');
}

/** Keys of these teams, grouped by team id, as an answer shows them (`clock`: see keyJson). */
export async function keysByTeam(db: Reader, teamIds: string[], clock: BudgetClock): Promise<Map<string, Json[]>> {
  const out = new Map<string, Json[]>(teamIds.map((id) => [id, []]));
  if (teamIds.length === 0) return out;
  const rows = await db.select().from(verificationTokens).where(anyOf(verificationTokens.team_id, teamIds))
    .orderBy(verificationTokens.created_at);
  for (const row of rows) out.get(row.team_id as string)?.push(keyJson(row, clock));
  return out;
}

/** LiteLLM_TeamMembership rows of these teams, each with its budget, grouped by team id. */
export async function membershipsByTeam(db: Reader, teamIds: string[], userId?: string): Promise<Map<string, Json[]>> {
  const out = new Map<string, Json[]>(teamIds.map((id) => [id, []]));
  if (teamIds.length === 0) return out;
  const rows = await db.select({ membership: teamMemberships, budget: budgets }).from(teamMemberships)
    .leftJoin(budgets, eq(budgets.budget_id, teamMemberships.budget_id))
    .where(anyOf(teamMemberships.team_id, teamIds));
  for (const { membership, budget } of rows) {
    if (userId && membership.user_id !== userId) continue;
    out.get(membership.team_id)?.push(teamMembershipJson(membership, budget));
  }
  return out;
}
