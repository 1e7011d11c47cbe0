/** Virtual keys: LiteLLM_VerificationToken and its deleted/deprecated companions. */
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { budgetFk } from './budgets.ts';
import { type BudgetLimit, createdAt, json, jsonObject, limit, money, spend, textList, ts, updatedAt, uuidPk } from './columns.ts';

/** `{ "<model>": <usd> }` */
export type ModelSpend = Record<string, number>;

/** Columns of a key row; shared with LiteLLM_DeletedVerificationToken. */
const tokenColumns = () => ({
  key_name: text(),
  key_alias: text(),
  spend: spend(),
  expires: ts(),
  models: textList(),
  aliases: jsonObject(),
  config: jsonObject(),
  user_id: text(),
  team_id: text(),
  organization_id: text(),
  permissions: json(),
  max_parallel_requests: integer(),
  metadata: jsonObject(),
  blocked: boolean(),
  tpm_limit: limit(),
  rpm_limit: limit(),
  max_budget: money(),
  budget_duration: text(),
  budget_reset_at: ts(),
  /** Budget windows beside `max_budget`/`budget_duration`, each with its own reset (LiteLLM's `budget_limits`). */
  budget_limits: json<BudgetLimit[]>(),
  /** Kept in LiteLLM_BudgetTable by LiteLLM; stored on the key here too. */
  soft_budget: money(),
  soft_budget_cooldown: boolean().notNull().default(false),
  allowed_cache_controls: textList(),
  allowed_routes: textList(),
  model_spend: jsonObject<ModelSpend>(),
  model_max_budget: jsonObject(),
  model_rpm_limit: json<Record<string, number>>(),
  model_tpm_limit: json<Record<string, number>>(),
  tags: textList(),
  created_at: createdAt(),
  created_by: text(),
  updated_at: updatedAt(),
  updated_by: text(),
  last_active: ts(),
  rotation_count: integer().notNull().default(0),
  last_rotation_at: ts(),
});

/** `token` is sha256 hex of the key; `key_name` holds the abbreviated `sk-...ABCD`. */
export const verificationTokens = pgTable(
  'LiteLLM_VerificationToken',
  {
    token: text().primaryKey(),
    ...tokenColumns(),
    budget_id: text(),
  },
  (t) => [
    // Only hashes are ever stored: a plaintext key written by mistake fails loudly.
    check('LiteLLM_VerificationToken_token_is_sha256', sql`${t.token} ~ '^[0-9a-f]{64}$'`),
    budgetFk('LiteLLM_VerificationToken', t.budget_id),
    index('LiteLLM_VerificationToken_user_id_team_id_idx').on(t.user_id, t.team_id),
    index('LiteLLM_VerificationToken_team_id_idx').on(t.team_id),
    index('LiteLLM_VerificationToken_budget_reset_at_expires_idx').on(t.budget_reset_at, t.expires),
    index('LiteLLM_VerificationToken_key_alias_idx').on(t.key_alias),
  ],
);

/** Audit copy of deleted keys (no FK on budget_id: the budget may be gone). */
export const deletedVerificationTokens = pgTable(
  'LiteLLM_DeletedVerificationToken',
  {
    id: uuidPk(),
    token: text().notNull(),
    ...tokenColumns(),
    budget_id: text(),
    deleted_at: createdAt(),
    deleted_by: text(),
    deleted_by_api_key: text(),
    litellm_changed_by: text(),
  },
  (t) => [
    index('LiteLLM_DeletedVerificationToken_token_idx').on(t.token),
    index('LiteLLM_DeletedVerificationToken_deleted_at_idx').on(t.deleted_at),
    index('LiteLLM_DeletedVerificationToken_team_id_idx').on(t.team_id),
  ],
);

/** Old key hashes still accepted after a rotation, until `revoke_at`. */
export const deprecatedVerificationTokens = pgTable(
  'LiteLLM_DeprecatedVerificationToken',
  {
    id: uuidPk(),
    token: text().notNull().unique('LiteLLM_DeprecatedVerificationToken_token_key'),
    active_token_id: text().notNull(),
    revoke_at: ts().notNull(),
    created_at: createdAt(),
  },
  (t) => [
    index('LiteLLM_DeprecatedVerificationToken_active_token_id_idx').on(t.active_token_id),
    index('LiteLLM_DeprecatedVerificationToken_revoke_at_idx').on(t.revoke_at),
  ],
);

export type KeyRow = typeof verificationTokens.$inferSelect;
export type NewKeyRow = typeof verificationTokens.$inferInsert;
export type DeletedKeyRow = typeof deletedVerificationTokens.$inferSelect;
export type NewDeletedKeyRow = typeof deletedVerificationTokens.$inferInsert;
export type DeprecatedKeyRow = typeof deprecatedVerificationTokens.$inferSelect;
export type NewDeprecatedKeyRow = typeof deprecatedVerificationTokens.$inferInsert;
