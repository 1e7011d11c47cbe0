import { sql } from 'drizzle-orm';
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
  const chunk = options.chunk ?? 5000;
  const deadline = Date.now() + (options.timeBudgetMs ?? 20_000);
  const database = openDatabase(env);
  let deleted = 0;
  try {
    for (;;) {
      const result = await database.db.execute(sql`
        DELETE FROM "LiteLLM_SpendLogs" WHERE request_id IN (
          SELECT request_id FROM "LiteLLM_SpendLogs" WHERE "startTime" < ${options.before.toISOString()}::timestamptz LIMIT ${chunk})`);
      const n = result.rowCount ?? 0;
      deleted += n;
      if (n < chunk) return { deleted, more: false };
      if (Date.now() >= deadline) return { deleted, more: true };
    }
  } finally {
    await database.close();
  }
}
