import { sql } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { SpendLogRecord } from '../../../worker/telemetry/spend-log.ts';

/** Column name → its Postgres type. */
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
const COLUMN_LIST = COLUMNS.map(([name]) => `"${name}"`).join(', ');
const isNumber = (type: string) => type === 'float8' || type === 'int4';
/**
 * The records travel as one JSON array (one parameter, serialised natively,
 * expanded by Postgres) rather than an array parameter per column, which the
 * driver would build element by element in JavaScript. Numbers are read as
 * JSON and kept only when they are numbers: a NaN or infinite count or cost
 * (JSON null) must not poison the sums.
 */
const RECORD_TYPES = COLUMNS.map(([name, type]) => `"${name}" ${isNumber(type) ? 'jsonb' : type}`).join(', ');
const SELECT_LIST = COLUMNS.map(([name, type]) => {
  if (!isNumber(type)) return `"${name}"`;
  const value = type === 'int4' ? `round(("${name}")::numeric)::int4` : `("${name}")::float8`;
  const otherwise = name === 'request_duration_ms' ? 'NULL' : '0';
  return `CASE WHEN jsonb_typeof("${name}") = 'number' THEN ${value} ELSE ${otherwise} END AS "${name}"`;
}).join(', ');

/** The LiteLLM route of a call type: the daily tables' `endpoint`. */
const ENDPOINT_OF = `CASE call_type WHEN 'acompletion' THEN '/chat/completions' WHEN 'atext_completion' THEN '/completions'
      WHEN 'aembedding' THEN '/embeddings' WHEN 'aresponses' THEN '/responses' WHEN 'amoderation' THEN '/moderations' WHEN 'aimage_generation' THEN '/images/generations' WHEN 'aspeech' THEN '/audio/speech' WHEN 'atranscription' THEN '/audio/transcriptions' WHEN 'aimage_edit' THEN '/images/edits' WHEN 'arerank' THEN '/rerank' WHEN 'aocr' THEN '/ocr' WHEN 'aretrieve_batch' THEN '/batches' WHEN 'acreate_fine_tuning_job' THEN '/fine_tuning/jobs' WHEN '_arealtime' THEN '/realtime' WHEN 'asearch' THEN '/search' WHEN 'asend_message' THEN '/a2a' WHEN 'acreate_interaction' THEN '/interactions' ELSE '' END`;

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

/** `inserted`: the rows that were new, kept in LiteLLM_SpendLogs (a redelivered request id is not among them). */
const INSERT_ROWS = `
  inserted AS (
    INSERT INTO "LiteLLM_SpendLogs" (${COLUMN_LIST})
    SELECT ${COLUMN_LIST} FROM input
    ON CONFLICT (request_id) DO NOTHING
    RETURNING *),`;

/** `inserted` with `disable_spend_logs`: the new records, known new by their request id alone (Tollgate_SpendLogIds). */
const INSERT_IDS = `
  new_ids AS (
    INSERT INTO "Tollgate_SpendLogIds" (request_id)
    SELECT request_id FROM input
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id),
  inserted AS (SELECT input.* FROM input JOIN new_ids USING (request_id)),`;

/**
 * After the insert: `facts` are the new records' rollup dimensions. Every
 * other CTE writes from `facts`; Postgres runs each data-modifying CTE once,
 * to completion, in the one statement, so the whole batch is one transaction
 * and one round trip.
 */
const AFTER_INSERT = `
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
  -- max_budget_in_team: what a team's key spends, its user spends inside the team.
  member_spend AS (
    UPDATE "LiteLLM_TeamMembership" m SET spend = m.spend + d.spend
    FROM (SELECT team_id, user_id, sum(spend) AS spend FROM facts WHERE team_id IS NOT NULL AND user_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2) d
    WHERE m.team_id = d.team_id AND m.user_id = d.user_id
    RETURNING 1),
  -- A tag managed through /tag/* (LiteLLM_TagTable) counts the spend of the calls carrying it, each call once; tags without a row get none (LiteLLM's too).
  tag_spend AS (
    UPDATE "LiteLLM_TagTable" t SET spend = t.spend + d.spend
    FROM (SELECT tags.tag, sum(spend) AS spend FROM facts CROSS JOIN LATERAL (SELECT DISTINCT jsonb_array_elements_text(facts.request_tags) AS tag) tags
      WHERE tags.tag <> '' GROUP BY 1 ORDER BY 1) d
    WHERE t.tag_name = d.tag
    RETURNING 1),
  -- LiteLLM creates an end user the first time a request names it.
  end_user_spend AS (
    INSERT INTO "LiteLLM_EndUserTable" (user_id, spend)
    SELECT end_user, sum(spend) FROM facts WHERE end_user IS NOT NULL GROUP BY 1 ORDER BY 1
    ON CONFLICT (user_id) DO UPDATE SET spend = "LiteLLM_EndUserTable".spend + EXCLUDED.spend
    RETURNING 1)
SELECT count(*)::int AS written FROM inserted`;

export interface WriteResult {
  /** Records in the batch (distinct request ids). */
  received: number;
  /** Of those, rows that were new; the rest were written by an earlier delivery. */
  written: number;
}

/**
 * Writes a batch of spend-log records with one statement (`keepRows: false`,
 * for `disable_spend_logs`: everything but the LiteLLM_SpendLogs rows, their
 * request ids kept instead so a redelivery still changes nothing): a multi-row insert
 * into LiteLLM_SpendLogs (the records as one JSON parameter, however many
 * rows) that skips request ids already written, and, from the
 * rows that were new only, the daily rollups per key, user, team,
 * organization, end user and tag (each with its model and provider) upserted
 * and the spend of each key, team, user, organization, end user and managed
 * tag incremented once. A redelivered batch changes nothing. The records have
 * distinct request ids (the consumer makes them so for the whole batch).
 */
export async function writeSpendLogs(db: NeonDatabase, records: SpendLogRecord[], options: { keepRows?: boolean } = {}): Promise<WriteResult> {
  if (records.length === 0) return { received: 0, written: 0 };
  const result = await db.execute<{ written: number }>(sql`
    WITH input AS (
      SELECT ${sql.raw(SELECT_LIST)} FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS t(${sql.raw(RECORD_TYPES)})
    ),${sql.raw(options.keepRows === false ? INSERT_IDS : INSERT_ROWS)}${sql.raw(AFTER_INSERT)}`);
  return { received: records.length, written: Number(result.rows[0]?.written ?? 0) };
}
