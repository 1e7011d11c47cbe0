import { type SQL, sql } from 'drizzle-orm';
import { type DatabaseEnv, openDatabase } from '../../worker/db/client.ts';

export interface RetentionOptions {
  /** Rows whose startTime is before this are deleted. */
  before: Date;
  /** Rows per DELETE statement (each its own short transaction). */
  chunk?: number;
  /** Stop starting new chunks after this long; the next run goes on. */
  timeBudgetMs?: number;
}

export interface RetentionResult {
  deleted: number;
  /** True when the time budget ran out with rows still to delete. */
  more: boolean;
}

/**
 * Deletes LiteLLM_SpendLogs rows older than `before` in bounded chunks (an
 * index range on startTime, a few thousand rows per statement), so neither a
 * long lock nor one huge transaction stands in the consumers' way. Daily
 * rollups are kept.
 */
export async function deleteOldSpendLogs(env: DatabaseEnv, options: RetentionOptions): Promise<RetentionResult> {
  const before = options.before.toISOString();
  return deleteInChunks(env, options, (chunk) => sql`
    DELETE FROM "LiteLLM_SpendLogs" WHERE request_id IN (
      SELECT request_id FROM "LiteLLM_SpendLogs" WHERE "startTime" < ${before}::timestamptz LIMIT ${chunk})`);
}

/**
 * How long Tollgate_SpendLogIds keeps a request id (disable_spend_logs): past any redelivery of a batch
 * written, including one whose later chunk keeps failing in the dead-letter queue for weeks (its
 * written chunk must not be counted again when it finally goes through).
 */
const SPEND_LOG_ID_DAYS = 30;

/** Deletes request ids past SPEND_LOG_ID_DAYS from Tollgate_SpendLogIds, in chunks, as deleteOldSpendLogs does rows. */
export async function deleteOldSpendLogIds(env: DatabaseEnv, options: { now: Date; chunk?: number; timeBudgetMs?: number }): Promise<RetentionResult> {
  const before = new Date(options.now.getTime() - SPEND_LOG_ID_DAYS * 86_400_000).toISOString();
  return deleteInChunks(env, options, (chunk) => sql`
    DELETE FROM "Tollgate_SpendLogIds" WHERE request_id IN (
      SELECT request_id FROM "Tollgate_SpendLogIds" WHERE written_at < ${before}::timestamptz LIMIT ${chunk})`);
}

/** Runs `statement` (deleting at most `chunk` rows) until it deletes fewer, or the time budget is spent. */
async function deleteInChunks(env: DatabaseEnv, options: { chunk?: number; timeBudgetMs?: number }, statement: (chunk: number) => SQL): Promise<RetentionResult> {
  const chunk = options.chunk ?? 5000;
  const deadline = Date.now() + (options.timeBudgetMs ?? 20_000);
  const database = openDatabase(env);
  let deleted = 0;
  try {
    for (;;) {
      const n = (await database.db.execute(statement(chunk))).rowCount ?? 0;
      deleted += n;
      if (n < chunk) return { deleted, more: false };
      if (Date.now() >= deadline) return { deleted, more: true };
    }
  } finally {
    await database.close();
  }
}
