/**
 * Daily spend rollups, upserted in batches on their `<table>_upsert_key`
 * unique constraint: (entity, date, api_key, model, custom_llm_provider, endpoint).
 * The dimension columns are NOT NULL DEFAULT '' so that the constraint matches.
 */
import { type AnyPgColumn, index, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { counter, createdAt, spend, updatedAt, uuidPk } from './columns.ts';

/** Everything but `id` and the entity column, which come first in each table. */
const dailyColumns = () => ({
  /** YYYY-MM-DD (UTC) */
  date: text().notNull(),
  api_key: text().notNull().default(''),
  model: text().notNull().default(''),
  model_group: text(),
  custom_llm_provider: text().notNull().default(''),
  endpoint: text().notNull().default(''),
  prompt_tokens: counter(),
  completion_tokens: counter(),
  cache_read_input_tokens: counter(),
  cache_creation_input_tokens: counter(),
  spend: spend(),
  api_requests: counter(),
  successful_requests: counter(),
  failed_requests: counter(),
  created_at: createdAt(),
  updated_at: updatedAt(),
});

type DailyDims = Record<'date' | 'api_key' | 'model' | 'custom_llm_provider' | 'endpoint', AnyPgColumn>;

/** The upsert key and the (date) / (entity, date) indexes; `entity` may be `t.api_key` itself. */
const dailyConstraints = (table: string, entity: AnyPgColumn, t: DailyDims) => [
  unique(`${table}_upsert_key`).on(
    entity,
    t.date,
    ...(entity === t.api_key ? [] : [t.api_key]),
    t.model,
    t.custom_llm_provider,
    t.endpoint,
  ),
  index(`${table}_date_idx`).on(t.date),
  index(`${table}_${entity.name}_date_idx`).on(entity, t.date),
];

export const dailyUserSpend = pgTable(
  'LiteLLM_DailyUserSpend',
  { id: uuidPk(), user_id: text().notNull(), ...dailyColumns() },
  (t) => dailyConstraints('LiteLLM_DailyUserSpend', t.user_id, t),
);

export const dailyTeamSpend = pgTable(
  'LiteLLM_DailyTeamSpend',
  { id: uuidPk(), team_id: text().notNull(), ...dailyColumns() },
  (t) => dailyConstraints('LiteLLM_DailyTeamSpend', t.team_id, t),
);

export const dailyOrganizationSpend = pgTable(
  'LiteLLM_DailyOrganizationSpend',
  { id: uuidPk(), organization_id: text().notNull(), ...dailyColumns() },
  (t) => dailyConstraints('LiteLLM_DailyOrganizationSpend', t.organization_id, t),
);

export const dailyEndUserSpend = pgTable(
  'LiteLLM_DailyEndUserSpend',
  { id: uuidPk(), end_user_id: text().notNull(), ...dailyColumns() },
  (t) => dailyConstraints('LiteLLM_DailyEndUserSpend', t.end_user_id, t),
);

export const dailyTagSpend = pgTable(
  'LiteLLM_DailyTagSpend',
  { id: uuidPk(), tag: text().notNull(), ...dailyColumns() },
  (t) => dailyConstraints('LiteLLM_DailyTagSpend', t.tag, t),
);

/** Ours (not in LiteLLM): per-key rollup, the entity is `api_key`. */
export const dailyKeySpend = pgTable('LiteLLM_DailyKeySpend', { id: uuidPk(), ...dailyColumns() }, (t) =>
  dailyConstraints('LiteLLM_DailyKeySpend', t.api_key, t),
);

export type DailyUserSpendRow = typeof dailyUserSpend.$inferSelect;
export type DailyTeamSpendRow = typeof dailyTeamSpend.$inferSelect;
export type DailyOrganizationSpendRow = typeof dailyOrganizationSpend.$inferSelect;
export type DailyEndUserSpendRow = typeof dailyEndUserSpend.$inferSelect;
export type DailyTagSpendRow = typeof dailyTagSpend.$inferSelect;
export type DailyKeySpendRow = typeof dailyKeySpend.$inferSelect;
/** Columns common to every daily rollup (the key table's row, which has no extra entity column). */
export type DailySpendRow = DailyKeySpendRow;
export type NewDailyKeySpendRow = typeof dailyKeySpend.$inferInsert;
