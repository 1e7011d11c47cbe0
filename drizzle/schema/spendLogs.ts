/** LiteLLM_SpendLogs: one row per request. */
import { boolean, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, json, jsonArray, jsonObject, spend, ts } from './columns.ts';

export const spendLogs = pgTable(
  'LiteLLM_SpendLogs',
  {
    request_id: text().primaryKey(),
    call_type: text().notNull().default(''),
    /** sha256 hex of the key (LiteLLM_VerificationToken.token). */
    api_key: text().notNull().default(''),
    spend: spend(),
    total_tokens: integer().notNull().default(0),
    prompt_tokens: integer().notNull().default(0),
    completion_tokens: integer().notNull().default(0),
    cache_read_input_tokens: integer().notNull().default(0),
    cache_creation_input_tokens: integer().notNull().default(0),
    startTime: ts().notNull(),
    endTime: ts().notNull(),
    completionStartTime: ts(),
    request_duration_ms: integer(),
    model: text().notNull().default(''),
    model_id: text().default(''),
    model_group: text().default(''),
    custom_llm_provider: text().default(''),
    api_base: text().default(''),
    /** The key owner's user_id (LiteLLM's meaning); the request body's `user` goes to end_user. */
    user: text().default(''),
    metadata: jsonObject(),
    /** LiteLLM stores the strings 'True' / 'False'; a boolean here. */
    cache_hit: boolean().notNull().default(false),
    cache_key: text(),
    request_tags: jsonArray<string>(),
    team_id: text(),
    organization_id: text(),
    end_user: text(),
    requester_ip_address: text(),
    /** Only filled when prompts are stored in spend logs. */
    messages: json<unknown>(),
    response: json<unknown>(),
    session_id: text(),
    /** 'success' | 'failure' */
    status: text().$type<'success' | 'failure'>().notNull().default('success'),
    error_type: text(),
    /** Row insert time (ours; LiteLLM has none). Unqualified in finance queries. */
    created_at: createdAt(),
  },
  (t) => [
    index('LiteLLM_SpendLogs_startTime_idx').on(t.startTime),
    index('LiteLLM_SpendLogs_api_key_startTime_idx').on(t.api_key, t.startTime),
    index('LiteLLM_SpendLogs_team_id_created_at_idx').on(t.team_id, t.created_at),
    // A team's budget_limits windows are summed by startTime (worker/limits/budget-limits.ts).
    index('LiteLLM_SpendLogs_team_id_startTime_idx').on(t.team_id, t.startTime),
    index('LiteLLM_SpendLogs_created_at_idx').on(t.created_at),
    index('LiteLLM_SpendLogs_end_user_idx').on(t.end_user),
    index('LiteLLM_SpendLogs_session_id_idx').on(t.session_id),
    index('LiteLLM_SpendLogs_organization_id_created_at_idx').on(t.organization_id, t.created_at),
    index('LiteLLM_SpendLogs_user_idx').on(t.user),
  ],
);

export type SpendLogRow = typeof spendLogs.$inferSelect;
export type NewSpendLogRow = typeof spendLogs.$inferInsert;

/**
 * Tollgate's own: with `general_settings.disable_spend_logs` no LiteLLM_SpendLogs
 * row is kept, yet a redelivered batch must not add its spend twice; the
 * request ids written go here instead (30 days, pruned by a scheduled job).
 */
export const spendLogIds = pgTable(
  'Tollgate_SpendLogIds',
  {
    request_id: text().primaryKey(),
    written_at: createdAt(),
  },
  (t) => [index('Tollgate_SpendLogIds_written_at_idx').on(t.written_at)],
);
