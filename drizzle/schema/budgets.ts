/** LiteLLM_BudgetTable: shared limits referenced by keys, orgs, end users and memberships. */
import { type AnyPgColumn, foreignKey, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, json, limit, money, textList, ts, updatedAt, uuidPk } from './columns.ts';

export const budgets = pgTable('LiteLLM_BudgetTable', {
  budget_id: uuidPk(),
  max_budget: money(),
  soft_budget: money(),
  max_parallel_requests: integer(),
  tpm_limit: limit(),
  rpm_limit: limit(),
  /** `{ "<model>": { "budget_limit": number, "time_period": "30d" } }` */
  model_max_budget: json(),
  budget_duration: text(),
  budget_reset_at: ts(),
  allowed_models: textList(),
  created_at: createdAt(),
  created_by: text(),
  updated_at: updatedAt(),
  updated_by: text(),
});

export type BudgetRow = typeof budgets.$inferSelect;
export type NewBudgetRow = typeof budgets.$inferInsert;

/** `FOREIGN KEY (budget_id) REFERENCES "LiteLLM_BudgetTable" ON DELETE SET NULL`, Prisma-style name. */
export const budgetFk = (table: string, column: AnyPgColumn) =>
  foreignKey({ name: `${table}_budget_id_fkey`, columns: [column], foreignColumns: [budgets.budget_id] }).onDelete(
    'set null',
  );

/**
 * LiteLLM_TagTable: request tags managed through `/tag/*`, each with an
 * optional budget row (its `max_budget` / `budget_duration` hold the calls
 * carrying the tag, as `tag_budget_config` does). `models` and `model_info`
 * are kept as LiteLLM writes them.
 */
export const tags = pgTable(
  'LiteLLM_TagTable',
  {
    tag_name: text().primaryKey(),
    description: text(),
    models: textList(),
    model_info: json(),
    spend: money().notNull().default(0),
    budget_id: text(),
    created_at: createdAt(),
    created_by: text(),
    updated_at: updatedAt(),
    updated_by: text(),
  },
  (t) => [budgetFk('LiteLLM_TagTable', t.budget_id)],
);

export type TagRow = typeof tags.$inferSelect;
