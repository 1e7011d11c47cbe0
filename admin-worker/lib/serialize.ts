/**
 * Database rows → the JSON LiteLLM's management API answers with. Rows keep
 * LiteLLM's column names, so most of this is the identity; the exceptions are
 * the team table's renamed columns and fields that must never leave the
 * database as stored (user passwords; a key's or team's callback secrets,
 * masked: every member of a team may read it).
 */
import type { BudgetRow } from '../../drizzle/schema/budgets.ts';
import type { KeyRow } from '../../drizzle/schema/keys.ts';
import type { EndUserRow, OrganizationMembershipRow, OrganizationRow, UserRow } from '../../drizzle/schema/principals.ts';
import type { TeamMembershipRow, TeamRow } from '../../drizzle/schema/teams.ts';
import { type BudgetClock, currentBudgetLimits } from './budget-limits.ts';
import { maskedMetadata } from './secret-mask.ts';

export type Json = Record<string, unknown>;

/**
 * A team as LiteLLM shows it. The table names its spend and creation time
 * `team_spend` / `team_created_at` (so the finance query's unqualified
 * `spend` / `created_at` mean the spend log's); the API says `spend` / `created_at`.
 * With a `clock` (answers), each of `budget_limits`' `reset_at` is the end of
 * the window open then; without one (audit rows) the list is as stored.
 * Callback secrets in `metadata` are masked (maskedMetadata), audit rows' too.
 */
export function teamJson(row: TeamRow, clock?: BudgetClock): Json {
  const { team_spend, team_created_at, ...rest } = row;
  const limits = clock ? { budget_limits: currentBudgetLimits(row.budget_limits, clock) } : {};
  return { ...rest, metadata: maskedMetadata(row.metadata), ...limits, spend: team_spend, created_at: team_created_at };
}

/** A key row, hash (`token`) included, as LiteLLM lists a team's or user's keys; `clock` and `metadata` as for teamJson. */
export function keyJson(row: KeyRow, clock?: BudgetClock): Json {
  const masked = { ...row, metadata: maskedMetadata(row.metadata) };
  return clock ? { ...masked, budget_limits: currentBudgetLimits(row.budget_limits, clock) } : masked;
}

/** A user row; the password hash never leaves the database. */
export function userJson(row: UserRow): Json {
  const { password: _password, ...rest } = row;
  return rest;
}

export function budgetJson(row: BudgetRow): Json {
  return { ...row };
}

/** LiteLLM_EndUserTable row with its budget joined in, as `/customer/*` returns it. */
export function endUserJson(row: EndUserRow, budget: BudgetRow | null | undefined): Json {
  return { ...row, litellm_budget_table: budget ? budgetJson(budget) : null };
}

export function teamMembershipJson(row: TeamMembershipRow, budget?: BudgetRow | null): Json {
  return { ...row, litellm_budget_table: budget ? budgetJson(budget) : null };
}

export function organizationMembershipJson(row: OrganizationMembershipRow): Json {
  return { ...row };
}

/** An organization with whatever relations the route loaded (`litellm_budget_table`, `members`, `teams`). */
export function organizationJson(
  row: OrganizationRow,
  related: { budget?: BudgetRow | null; members?: OrganizationMembershipRow[]; teams?: TeamRow[]; clock?: BudgetClock } = {},
): Json {
  const out: Json = { ...row };
  if ('budget' in related) out.litellm_budget_table = related.budget ? budgetJson(related.budget) : null;
  if (related.members) out.members = related.members.map(organizationMembershipJson);
  if (related.teams) out.teams = related.teams.map((team) => teamJson(team, related.clock));
  return out;
}
