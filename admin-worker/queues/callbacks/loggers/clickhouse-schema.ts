/**
 * The `spend_logs` table LiteLLM's `clickhouse` callback writes (its integrations/clickhouse/schema.py): its
 * database and the table, as LiteLLM's ensure_schema makes them. LiteLLM runs that only when agent tracing
 * starts, never from the spend logger; the logger here sends each only after an insert finds it missing, so a
 * user without that CREATE grant (checked before IF NOT EXISTS) writes to a table made for it. A
 * ReplacingMergeTree ordered by (team_id, start time, request_id): a row sent twice (a retried batch) has the same
 * key and is merged into one, whatever batch it went in, so retries never leave duplicate spend.
 */

/** LiteLLM's default database (DEFAULT_CLICKHOUSE_DATABASE). */
export const CLICKHOUSE_DEFAULT_DATABASE = 'litellm';
/** LiteLLM's default retention of spend rows, in days (DEFAULT_AGENT_TRACING_RETENTION_DAYS). */
export const CLICKHOUSE_DEFAULT_RETENTION_DAYS = 14;
const SPEND_LOGS_TABLE = 'spend_logs';

/** A database name the statements can hold as it is: a plain identifier (no quoting games with a setting). */
export const plainIdentifier = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name);

/** The table, as LiteLLM's DDL names it: `database`.spend_logs. */
export const spendLogsTable = (database: string): string => `\`${database}\`.${SPEND_LOGS_TABLE}`;

/** The statement that makes the database when missing (each statement one request: the HTTP interface takes one a request). */
export const createDatabaseStatement = (database: string): string => `CREATE DATABASE IF NOT EXISTS \`${database}\``;

/** The statement that makes the table when missing, its rows kept `retentionDays` (the TTL). */
export function createTableStatement(database: string, retentionDays: number): string {
  return `CREATE TABLE IF NOT EXISTS ${spendLogsTable(database)}
(
    request_id            String,
    response_id           String,
    call_type             LowCardinality(String),
    api_key               String,
    key_alias             String,
    team_id               LowCardinality(String),
    team_alias            String,
    organization_id       String,
    user                  String,
    end_user              String,
    model                 LowCardinality(String),
    model_group           LowCardinality(String),
    model_id              String,
    custom_llm_provider   LowCardinality(String),
    api_base              String,
    spend                 Float64,
    prompt_tokens         UInt32,
    completion_tokens     UInt32,
    total_tokens          UInt32,
    cache_read_tokens     UInt32,
    cache_write_tokens    UInt32,
    start_time            DateTime64(3),
    end_time              DateTime64(3),
    completion_start_time Nullable(DateTime64(3)),
    status                LowCardinality(String),
    error_str             String,
    cache_hit             Bool,
    session_id            String,
    trace_id              String,
    span_id               String,
    request_tags          Array(String),
    metadata              String CODEC(ZSTD(3)),
    messages              String CODEC(ZSTD(3)),
    response              String CODEC(ZSTD(3)),
    INDEX idx_response_id response_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_trace_id    trace_id    TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(end_time)
PARTITION BY toYYYYMM(start_time)
ORDER BY (team_id, toDateTime(start_time), request_id)
TTL toDateTime(start_time) + INTERVAL ${retentionDays} DAY`;
}
