import { sql } from 'drizzle-orm';
import { openDatabase } from '../../worker/db/client.ts';
import type { SpendLogMessage, SpendLogRecord } from '../../worker/telemetry/spend-log.ts';
import type { AdminEnv } from '../env.ts';

export const SPEND_LOG_QUEUE = 'tollgate-spend-logs';

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
const COLUMN_LIST = sql.raw(COLUMNS.map(([name]) => `"${name}"`).join(', '));

/**
 * Writes one batch of spend-log messages: one insert for every record in it
 * (a column per array parameter, so the statement has 31 parameters however
 * many rows), idempotent on request_id (a redelivered message never counts
 * twice), and each entity's spend bumped once per batch, only for rows that
 * were new, all in one transaction. A failing batch is retried with backoff.
 */
export async function consumeSpendLogs(batch: MessageBatch<unknown>, env: AdminEnv, ctx: ExecutionContext): Promise<void> {
  const records = batch.messages.flatMap((m) => recordsOf(m.body));
  if (records.length === 0) {
    batch.ackAll();
    return;
  }
  const database = openDatabase(env);
  try {
    await database.db.transaction(async (tx) => {
      const arrays = COLUMNS.map(([name, type]) => {
        const values = records.map((r) => (JSON_COLUMNS.has(name) ? jsonText(r[name]) : r[name] ?? null));
        // sql.param: one array parameter (a bare JS array would expand to a list).
        return sql`${sql.param(values)}::${sql.raw(JSON_COLUMNS.has(name) ? 'text' : type)}[]`;
      });
      const selectList = sql.raw(COLUMNS.map(([name, type]) => (type === 'jsonb' ? `"${name}"::jsonb` : `"${name}"`)).join(', '));
      const inserted = await tx.execute<{ request_id: string }>(sql`
        INSERT INTO "LiteLLM_SpendLogs" (${COLUMN_LIST})
        SELECT ${selectList} FROM unnest(${sql.join(arrays, sql`, `)}) AS t(${COLUMN_LIST})
        ON CONFLICT (request_id) DO NOTHING
        RETURNING request_id`);
      const fresh = new Set(inserted.rows.map((r) => r.request_id));
      const totals = entityTotals(records.filter((r) => fresh.has(r.request_id)));
      for (const [token, amount] of totals.keys) {
        await tx.execute(sql`UPDATE "LiteLLM_VerificationToken" SET spend = spend + ${amount}, last_active = now() WHERE token = ${token}`);
      }
      for (const [id, amount] of totals.teams) {
        await tx.execute(sql`UPDATE "LiteLLM_TeamTable" SET team_spend = team_spend + ${amount} WHERE team_id = ${id}`);
      }
      for (const [id, amount] of totals.users) {
        await tx.execute(sql`UPDATE "LiteLLM_UserTable" SET spend = spend + ${amount} WHERE user_id = ${id}`);
      }
      for (const [id, amount] of totals.orgs) {
        await tx.execute(sql`UPDATE "LiteLLM_OrganizationTable" SET spend = spend + ${amount} WHERE organization_id = ${id}`);
      }
      for (const [id, amount] of totals.endUsers) {
        // LiteLLM creates an end user the first time a request names it.
        await tx.execute(sql`INSERT INTO "LiteLLM_EndUserTable" (user_id, spend) VALUES (${id}, ${amount})
          ON CONFLICT (user_id) DO UPDATE SET spend = "LiteLLM_EndUserTable".spend + EXCLUDED.spend`);
      }
    });
    batch.ackAll();
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    console.error(`spend-log batch of ${records.length} records failed, retrying: ${cause}`);
    const attempts = Math.max(...batch.messages.map((m) => m.attempts));
    batch.retryAll({ delaySeconds: Math.min(300, 2 ** attempts) });
  } finally {
    ctx.waitUntil(database.close());
  }
}

/** A message holds a pack of records (SpendLogMessage); a lone record is accepted too. */
function recordsOf(body: unknown): SpendLogRecord[] {
  const isRecord = (v: unknown): v is SpendLogRecord => !!v && typeof v === 'object' && typeof (v as SpendLogRecord).request_id === 'string';
  if (body && typeof body === 'object' && Array.isArray((body as SpendLogMessage).records)) return (body as SpendLogMessage).records.filter(isRecord);
  return isRecord(body) ? [body] : [];
}

function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function entityTotals(records: SpendLogRecord[]) {
  const totals = {
    keys: new Map<string, number>(), teams: new Map<string, number>(), users: new Map<string, number>(),
    orgs: new Map<string, number>(), endUsers: new Map<string, number>(),
  };
  const add = (map: Map<string, number>, id: string | null | undefined, amount: number) => {
    if (id) map.set(id, (map.get(id) ?? 0) + amount);
  };
  for (const r of records) {
    if (!(r.spend > 0)) continue;
    add(totals.keys, r.api_key, r.spend);
    add(totals.teams, r.team_id, r.spend);
    add(totals.users, r.user, r.spend);
    add(totals.orgs, r.organization_id, r.spend);
    add(totals.endUsers, r.end_user, r.spend);
  }
  return totals;
}
