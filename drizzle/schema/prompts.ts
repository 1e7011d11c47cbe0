/**
 * Prompts added through `/prompts` (LiteLLM_PromptTable): one row per version of a prompt, its
 * `litellm_params` as config.yaml's `prompts:` take them (secrets sealed, worker/prompts/stored-params.ts).
 * `environment` and `created_by` are newer LiteLLM's columns, kept so a database shared with LiteLLM works.
 */
import { integer, jsonb, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { createdAt, json, type Json, updatedAt, uuidPk } from './columns.ts';

/** LiteLLM's default environment, which every prompt Tollgate stores is in. */
export const DEFAULT_ENVIRONMENT = 'development';

export const promptTable = pgTable('LiteLLM_PromptTable', {
  id: uuidPk(),
  prompt_id: text().notNull(),
  version: integer().notNull().default(1),
  environment: text().notNull().default(DEFAULT_ENVIRONMENT),
  created_by: text(),
  litellm_params: jsonb().$type<Json>().notNull(),
  prompt_info: json(),
  created_at: createdAt(),
  updated_at: updatedAt(),
}, (t) => [
  // Also what a prompt's versions are found by (its leading column); two creates of one version cannot both commit.
  unique('LiteLLM_PromptTable_prompt_id_version_key').on(t.prompt_id, t.version),
]);
export type PromptRow = typeof promptTable.$inferSelect;
