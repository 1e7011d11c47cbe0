import { type SQL, sql } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { SpendLogRecord } from '../../../worker/telemetry/spend-log.ts';

/** Column name → Postgres array type of the parameter that carries it. */
const COLUMNS: [keyof SpendLogRecord, string][] = [
  ['request_id', 'text'], ['call_type', 'text'], ['api_key', 'text'], ['spend', 'float8'],
  ['total_tokens', 'int4'], ['prompt_tokens', 'int4'], ['completion_tokens', 'int4'],
  ['cache_read_input_tokens', 'int4'], ['cache_creation_input_tokens', 'int4'],
  ['startTime', 'timestamptz'], ['endTime', 'timestamptz'], ['completionStartTime', 'timestamptz'],
  ['request_duration_ms', 'int4'], ['model', 'text'], ['model_id', 'text'], ['model_group', 'text'],
  ['custom_llm_provider', 'text'], ['api_base', 'text'], ['user', 'text'], ['metadata', 'jsonb'],
  ['cache_hit', 'bool'], ['cache_key', 'text'], ['request_tags', 'jsonb'], ['team_id', 'text'],
  ['organization_id', 'text'], ['end_user', 'text'], ['messages', 'jsonb'], ['response', 'jsonb'],
  ['session_id', 'text'], ['status', 'text'], ['error_type', 'text'],
];
const JSON_COLUMNS = new Set(COLUMNS.filter(([, type]) => type === 'jsonb').map(([name]) => name));
const NUMBER_COLUMNS = new Set(COLUMNS.filter(([, type]) => type === 'float8' || type === 'int4').map(([name]) => name));
const COLUMN_LIST = COLUMNS.map(([name]) => `"${name}"`).join(', ');
// JSON travels as text[] (a jsonb[] parameter would need every element quoted twice) and is cast per row.
const SELECT_LIST = COLUMNS.map(([name, type]) => (type === 'jsonb' ? `"${name}"::jsonb` : `"${name}"`)).join(', ');

/** The LiteLLM route of a call type: the daily tables' `endpoint`. */
const ENDPOINT_OF = `CASE call_type WHEN 'acompletion' THEN '/chat/completions' WHEN 'atext_completion' THEN '/completions'
      WHEN 'aembedding' THEN '/embeddings' ELSE '' END`;

const COUNTERS = [
  'prompt_tokens', 'completion_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'spend',
  'api_requests', 'successful_requests', 'failed_requests',
];

/**
 * One daily rollup as a data-modifying CTE: the new rows grouped by the
 * table's upsert key (in key order, so concurrent batches lock rows in the
 * same order), added to what the table holds. `entity` is the rollup's own
 * column and the expression that fills it; the key table has none (its
 * entity is `api_key`).
 */
function rollup(name: string, table: string, entity: [column: string, expr: string] | null, from: string, where: string): string {
  const dims = ['date', 'api_key', 'model', 'custom_llm_provider', 'endpoint'];
  const groupBy = [...(entity ? [entity[1]] : []), ...dims].join(', ');
  return `${name} AS (
    INSERT INTO "${table}" (${entity ? `"${entity[0]}", ` : ''}${dims.join(', ')}, model_group, ${COUNTERS.join(', ')})
    SELECT ${groupBy}, min(model_group),
      sum(prompt_tokens), sum(completion_tokens), sum(cache_read_input_tokens), sum(cache_creation_input_tokens),
      sum(spend), count(*), sum(ok), count(*) - sum(ok)
    FROM ${from} WHERE ${where}
    GROUP BY ${groupBy} ORDER BY ${groupBy}
    ON CONFLICT ON CONSTRAINT "${table}_upsert_key" DO UPDATE SET
      ${COUNTERS.map((c) => `${c} = "${table}".${c} + EXCLUDED.${c}`).join(', ')},
      model_group = COALESCE("${table}".model_group, EXCLUDED.model_group), updated_at = now()
    RETURNING 1)`;
}

/** Adds the new rows' spend to an entity table's spend column, one UPDATE per table, each entity once. */
function entitySpend(name: string, table: string, id: string, spendColumn: string, source: string, extra = ''): string {
  return `${name} AS (
    UPDATE "${table}" e SET ${spendColumn} = e.${spendColumn} + d.spend${extra}
    FROM (SELECT ${source} AS id, sum(spend) AS spend FROM facts WHERE ${source} IS NOT NULL GROUP BY 1 ORDER BY 1) d
    WHERE e.${id} = d.id
    RETURNING 1)`;
}

/**
 * After the insert: `inserted` is the rows that were new (a redelivered
 * request id is not among them), `facts` their rollup dimensions. Every
 * other CTE writes from `facts`; Postgres runs each data-modifying CTE once,
 * to completion, in the one statement, so the whole batch is one transaction
 * and one round trip.
 */
const AFTER_INSERT = `
  inserted AS (
    INSERT INTO "LiteLLM_SpendLogs" (${COLUMN_LIST})
    SELECT ${COLUMN_LIST} FROM input
    ON CONFLICT (request_id) DO NOTHING
    RETURNING *),
  facts AS MATERIALIZED (
    SELECT to_char("startTime" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date,
      api_key, COALESCE(model, '') AS model, NULLIF(model_group, '') AS model_group,
      COALESCE(custom_llm_provider, '') AS custom_llm_provider, ${ENDPOINT_OF} AS endpoint,
      prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens,
      spend, CASE WHEN status = 'success' THEN 1 ELSE 0 END AS ok,
      NULLIF("user", '') AS user_id, NULLIF(team_id, '') AS team_id, NULLIF(organization_id, '') AS organization_id,
      NULLIF(end_user, '') AS end_user,
      CASE WHEN jsonb_typeof(request_tags) = 'array' THEN request_tags ELSE '[]'::jsonb END AS request_tags
    FROM inserted),
  ${rollup('key_daily', 'LiteLLM_DailyKeySpend', null, 'facts', "api_key <> ''")},
  ${rollup('user_daily', 'LiteLLM_DailyUserSpend', ['user_id', 'user_id'], 'facts', 'user_id IS NOT NULL')},
  ${rollup('team_daily', 'LiteLLM_DailyTeamSpend', ['team_id', 'team_id'], 'facts', 'team_id IS NOT NULL')},
  ${rollup('org_daily', 'LiteLLM_DailyOrganizationSpend', ['organization_id', 'organization_id'], 'facts', 'organization_id IS NOT NULL')},
  ${rollup('end_user_daily', 'LiteLLM_DailyEndUserSpend', ['end_user_id', 'end_user'], 'facts', 'end_user IS NOT NULL')},
  ${rollup('tag_daily', 'LiteLLM_DailyTagSpend', ['tag', 'tags.tag'], 'facts CROSS JOIN LATERAL (SELECT DISTINCT jsonb_array_elements_text(facts.request_tags) AS tag) tags', "tags.tag <> ''")},
  ${entitySpend('key_spend', 'LiteLLM_VerificationToken', 'token', 'spend', "NULLIF(api_key, '')", ', last_active = now()')},
  ${entitySpend('team_spend', 'LiteLLM_TeamTable', 'team_id', 'team_spend', 'team_id')},
  ${entitySpend('user_spend', 'LiteLLM_UserTable', 'user_id', 'spend', 'user_id')},
  ${entitySpend('org_spend', 'LiteLLM_OrganizationTable', 'organization_id', 'spend', 'organization_id')},
  -- LiteLLM creates an end user the first time a request names it.
  end_user_spend AS (
    INSERT INTO "LiteLLM_EndUserTable" (user_id, spend)
    SELECT end_user, sum(spend) FROM facts WHERE end_user IS NOT NULL GROUP BY 1 ORDER BY 1
    ON CONFLICT (user_id) DO UPDATE SET spend = "LiteLLM_EndUserTable".spend + EXCLUDED.spend
    RETURNING 1)
SELECT count(*)::int AS written FROM inserted`;

export interface WriteResult {
  /** Distinct records in the batch. */
  received: number;
  /** Of those, rows that were new; the rest were written by an earlier delivery. */
  written: number;
}

/**
 * Writes a batch of spend-log records with one statement: a multi-row insert
 * into LiteLLM_SpendLogs (one array parameter per column, so 31 parameters
 * however many rows) that skips request ids already written, and, from the
 * rows that were new only, the daily rollups per key, user, team,
 * organization, end user and tag (each with its model and provider) upserted
 * and the spend of each key, team, user, organization and end user
 * incremented once. A redelivered batch changes nothing.
 */
export async function writeSpendLogs(db: NeonDatabase, batch: SpendLogRecord[]): Promise<WriteResult> {
  // The same request twice in one batch (a redelivery beside the original) is one row.
  const records = [...new Map(batch.map((r) => [r.request_id, r])).values()];
  if (records.length === 0) return { received: 0, written: 0 };
  const arrays: SQL[] = COLUMNS.map(([name, type]) => {
    const values = records.map((r) => columnValue(r, name));
    // sql.param: one array parameter (a bare JS array would expand to a list).
    return sql`${sql.param(values)}::${sql.raw(JSON_COLUMNS.has(name) ? 'text' : type)}[]`;
  });
  const result = await db.execute<{ written: number }>(sql`
    WITH input AS (
      SELECT ${sql.raw(SELECT_LIST)} FROM unnest(${sql.join(arrays, sql`, `)}) AS t(${sql.raw(COLUMN_LIST)})
    ),${sql.raw(AFTER_INSERT)}`);
  return { received: records.length, written: Number(result.rows[0]?.written ?? 0) };
}

function columnValue(r: SpendLogRecord, name: keyof SpendLogRecord): unknown {
  const value = r[name];
  if (JSON_COLUMNS.has(name)) return value === null || value === undefined ? null : JSON.stringify(value);
  // A NaN or infinite count or cost must not poison the sums.
  if (NUMBER_COLUMNS.has(name)) return typeof value === 'number' && Number.isFinite(value) ? value : name === 'request_duration_ms' ? null : 0;
  return value ?? null;
}
