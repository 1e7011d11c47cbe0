/** LiteLLM_TeamTable, LiteLLM_DeletedTeamTable and LiteLLM_TeamMembership. */
import { boolean, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { budgetFk } from './budgets.ts';
import { type BudgetLimit, createdAt, json, jsonArray, jsonObject, limit, money, spend, textList, ts, updatedAt, uuidPk } from './columns.ts';
import type { ModelSpend } from './keys.ts';

export type TeamMember = { role: 'admin' | 'user'; user_id?: string | null; user_email?: string | null };

/**
 * Team columns, shared with LiteLLM_DeletedTeamTable.
 *
 * Deviation from LiteLLM: its `created_at` and `spend` are named `team_created_at`
 * and `team_spend` here, so that unqualified `created_at` / `spend` in a query
 * joining LiteLLM_SpendLogs with LiteLLM_TeamTable refer to the spend log only.
 * The API layer maps them back to `created_at` / `spend`. The COMMENT ON
 * statements saying so are appended by hand to drizzle/migrations/0000_init.sql.
 */
const teamColumns = () => ({
  team_alias: text(),
  organization_id: text(),
  admins: textList(),
  members: textList(),
  members_with_roles: jsonArray<TeamMember>(),
  metadata: jsonObject(),
  max_budget: money(),
  soft_budget: money(),
  team_spend: spend(),
  models: textList(),
  max_parallel_requests: integer(),
  tpm_limit: limit(),
  rpm_limit: limit(),
  budget_duration: text(),
  budget_reset_at: ts(),
  /** Budget windows beside `max_budget`/`budget_duration`, each with its own reset (LiteLLM's `budget_limits`). */
  budget_limits: json<BudgetLimit[]>(),
  blocked: boolean().notNull().default(false),
  model_spend: jsonObject<ModelSpend>(),
  model_max_budget: jsonObject(),
  model_rpm_limit: json<Record<string, number>>(),
  model_tpm_limit: json<Record<string, number>>(),
  /** `{ "<alias>": "<model_name>" }` (LiteLLM keeps these in LiteLLM_ModelTable). */
  model_aliases: json<Record<string, string>>(),
  team_created_at: createdAt(),
  updated_at: updatedAt(),
});

export const teams = pgTable(
  'LiteLLM_TeamTable',
  {
    team_id: uuidPk(),
    ...teamColumns(),
    budget_id: text(),
  },
  (t) => [
    budgetFk('LiteLLM_TeamTable', t.budget_id),
    index('LiteLLM_TeamTable_organization_id_idx').on(t.organization_id),
    index('LiteLLM_TeamTable_team_alias_idx').on(t.team_alias),
  ],
);

export const deletedTeams = pgTable(
  'LiteLLM_DeletedTeamTable',
  {
    id: uuidPk(),
    team_id: text().notNull(),
    ...teamColumns(),
    budget_id: text(),
    deleted_at: createdAt(),
    deleted_by: text(),
    deleted_by_api_key: text(),
    litellm_changed_by: text(),
  },
  (t) => [
    index('LiteLLM_DeletedTeamTable_team_id_idx').on(t.team_id),
    index('LiteLLM_DeletedTeamTable_deleted_at_idx').on(t.deleted_at),
  ],
);

/** Per-member spend and budget inside a team. */
export const teamMemberships = pgTable(
  'LiteLLM_TeamMembership',
  {
    user_id: text().notNull(),
    team_id: text().notNull(),
    spend: spend(),
    budget_id: text(),
  },
  (t) => [
    primaryKey({ name: 'LiteLLM_TeamMembership_pkey', columns: [t.user_id, t.team_id] }),
    budgetFk('LiteLLM_TeamMembership', t.budget_id),
  ],
);

export type TeamRow = typeof teams.$inferSelect;
export type NewTeamRow = typeof teams.$inferInsert;
export type DeletedTeamRow = typeof deletedTeams.$inferSelect;
export type NewDeletedTeamRow = typeof deletedTeams.$inferInsert;
export type TeamMembershipRow = typeof teamMemberships.$inferSelect;
export type NewTeamMembershipRow = typeof teamMemberships.$inferInsert;
