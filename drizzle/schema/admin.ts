/** DB-stored models, DB-stored config and the audit log. */
import { boolean, doublePrecision, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, json, type Json, textList, ts, updatedAt, uuidPk } from './columns.ts';

/** Models added through /model/new; secrets inside `litellm_params` are stored encrypted. */
export const proxyModels = pgTable(
  'LiteLLM_ProxyModelTable',
  {
    model_id: uuidPk(),
    model_name: text().notNull(),
    litellm_params: jsonb().$type<Json>().notNull(),
    model_info: json(),
    blocked: boolean().notNull().default(false),
    created_at: createdAt(),
    created_by: text(),
    updated_at: updatedAt(),
    updated_by: text(),
  },
  (t) => [index('LiteLLM_ProxyModelTable_model_name_idx').on(t.model_name)],
);

/**
 * Reusable credentials (`/credentials`), named by models' `litellm_credential_name`; secret values are
 * sealed as in LiteLLM_ProxyModelTable (worker/models/db-models.ts).
 */
export const credentials = pgTable('LiteLLM_CredentialsTable', {
  credential_id: uuidPk(),
  credential_name: text().notNull().unique(),
  credential_values: jsonb().$type<Json>().notNull(),
  credential_info: json(),
  created_at: createdAt(),
  created_by: text(),
  updated_at: updatedAt(),
  updated_by: text(),
});
export type CredentialRow = typeof credentials.$inferSelect;

/**
 * MCP servers added through `/v1/mcp/server` (LiteLLM's LiteLLM_MCPServerTable, the columns Tollgate serves):
 * `server_name` is what tools are prefixed with and grants name; `credentials.auth_value` and auth headers in
 * `static_headers` are sealed as models' credentials are.
 */
export const mcpServers = pgTable('LiteLLM_MCPServerTable', {
  server_id: uuidPk(),
  server_name: text().notNull().unique(),
  alias: text(),
  description: text(),
  url: text().notNull(),
  transport: text().notNull().default('http'),
  auth_type: text(),
  credentials: json(),
  static_headers: json(),
  mcp_info: json(),
  mcp_access_groups: textList(),
  allowed_tools: textList(),
  disallowed_tools: textList(),
  allow_all_keys: boolean().notNull().default(false),
  created_at: createdAt(),
  created_by: text(),
  updated_at: updatedAt(),
  updated_by: text(),
});
export type McpServerRow = typeof mcpServers.$inferSelect;

/** DB-stored config (`general_settings`, encrypted `environment_variables`, ...). */
export const litellmConfig = pgTable('LiteLLM_Config', {
  param_name: text().primaryKey(),
  param_value: json<unknown>(),
});

export const auditLog = pgTable(
  'LiteLLM_AuditLog',
  {
    id: uuidPk(),
    /** When the change happened (LiteLLM's name). */
    updated_at: createdAt(),
    changed_by: text().notNull().default(''),
    changed_by_api_key: text().notNull().default(''),
    /** 'created' | 'updated' | 'deleted' | 'blocked' | 'rotated' */
    action: text().notNull(),
    table_name: text().notNull(),
    object_id: text().notNull(),
    before_value: json<unknown>(),
    updated_values: json<unknown>(),
  },
  (t) => [
    index('LiteLLM_AuditLog_object_id_idx').on(t.object_id),
    index('LiteLLM_AuditLog_updated_at_idx').on(t.updated_at),
  ],
);

/**
 * Background health checks (`general_settings.background_health_checks`): one
 * row per deployment per run, LiteLLM's LiteLLM_HealthCheckTable; GET /health
 * answers from each deployment's latest row. Rows older than a week are deleted
 * by the job.
 */
export const healthChecks = pgTable(
  'LiteLLM_HealthCheckTable',
  {
    health_check_id: uuidPk(),
    model_name: text().notNull(),
    model_id: text(),
    /** 'healthy' | 'unhealthy' */
    status: text().notNull(),
    healthy_count: integer().notNull().default(0),
    unhealthy_count: integer().notNull().default(0),
    error_message: text(),
    response_time_ms: doublePrecision(),
    details: json(),
    checked_by: text(),
    checked_at: ts().notNull().defaultNow(),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    index('LiteLLM_HealthCheckTable_model_id_checked_at_idx').on(t.model_id, t.checked_at),
    index('LiteLLM_HealthCheckTable_checked_at_idx').on(t.checked_at),
  ],
);

export type ProxyModelRow = typeof proxyModels.$inferSelect;
export type NewProxyModelRow = typeof proxyModels.$inferInsert;
export type ConfigRow = typeof litellmConfig.$inferSelect;
export type AuditLogRow = typeof auditLog.$inferSelect;
export type NewAuditLogRow = typeof auditLog.$inferInsert;
