/** Users, end users (customers), organizations and organization memberships. */
import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { budgetFk } from './budgets.ts';
import { createdAt, json, jsonObject, limit, money, spend, textList, ts, updatedAt, uuidPk } from './columns.ts';
import type { ModelSpend } from './keys.ts';

/** Internal (proxy) users. */
export const users = pgTable(
  'LiteLLM_UserTable',
  {
    user_id: text().primaryKey(),
    user_alias: text(),
    team_id: text(),
    sso_user_id: text().unique('LiteLLM_UserTable_sso_user_id_key'),
    organization_id: text(),
    password: text(),
    teams: textList(),
    user_role: text(),
    max_budget: money(),
    spend: spend(),
    user_email: text(),
    models: textList(),
    metadata: jsonObject(),
    max_parallel_requests: integer(),
    tpm_limit: limit(),
    rpm_limit: limit(),
    budget_duration: text(),
    budget_reset_at: ts(),
    allowed_cache_controls: textList(),
    model_spend: jsonObject<ModelSpend>(),
    model_max_budget: jsonObject(),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  // lower(user_email): a JWT's email finds its user in any case (worker/limits/jwt-policy.ts) without a full scan.
  (t) => [index('LiteLLM_UserTable_user_email_idx').on(t.user_email), index('LiteLLM_UserTable_lower_user_email_idx').on(sql`lower(${t.user_email})`)],
);

/** End users / customers (the `user` field of a request). */
export const endUsers = pgTable(
  'LiteLLM_EndUserTable',
  {
    user_id: text().primaryKey(),
    alias: text(),
    spend: spend(),
    allowed_model_region: text(),
    default_model: text(),
    budget_id: text(),
    blocked: boolean().notNull().default(false),
    metadata: json(),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [budgetFk('LiteLLM_EndUserTable', t.budget_id)],
);

/** Organizations; their limits live in the referenced budget row. */
export const organizations = pgTable(
  'LiteLLM_OrganizationTable',
  {
    organization_id: uuidPk(),
    organization_alias: text(),
    budget_id: text(),
    metadata: jsonObject(),
    models: textList(),
    spend: spend(),
    model_spend: jsonObject<ModelSpend>(),
    created_at: createdAt(),
    created_by: text(),
    updated_at: updatedAt(),
    updated_by: text(),
  },
  (t) => [budgetFk('LiteLLM_OrganizationTable', t.budget_id)],
);

export const organizationMemberships = pgTable(
  'LiteLLM_OrganizationMembership',
  {
    user_id: text().notNull(),
    organization_id: text().notNull(),
    user_role: text(),
    spend: spend(),
    budget_id: text(),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'LiteLLM_OrganizationMembership_pkey', columns: [t.user_id, t.organization_id] }),
    budgetFk('LiteLLM_OrganizationMembership', t.budget_id),
    index('LiteLLM_OrganizationMembership_organization_id_idx').on(t.organization_id),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
export type EndUserRow = typeof endUsers.$inferSelect;
export type NewEndUserRow = typeof endUsers.$inferInsert;
export type OrganizationRow = typeof organizations.$inferSelect;
export type NewOrganizationRow = typeof organizations.$inferInsert;
export type OrganizationMembershipRow = typeof organizationMemberships.$inferSelect;
export type NewOrganizationMembershipRow = typeof organizationMemberships.$inferInsert;
