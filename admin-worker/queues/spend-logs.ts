import { sql } from 'drizzle-orm';
import { spendLogs } from '../../drizzle/schema/spendLogs.ts';
import { openDatabase } from '../../worker/db/client.ts';
import type { SpendLogRecord } from '../../worker/telemetry/spend-log.ts';
import type { AdminEnv } from '../env.ts';

export const SPEND_LOG_QUEUE = 'tollgate-spend-logs';

/**
 * Writes one batch of spend-log records: one multi-row insert, idempotent on
 * request_id (a redelivered message never counts twice), and each entity's
 * spend column bumped once per batch, only for rows that were new, all in one
 * transaction. A failing batch is retried with backoff by the Queue.
 */
export async function consumeSpendLogs(batch: MessageBatch<SpendLogRecord>, env: AdminEnv, ctx: ExecutionContext): Promise<void> {
  const records = batch.messages.map((m) => m.body).filter(isRecord);
  if (records.length === 0) {
    batch.ackAll();
    return;
  }
  const database = openDatabase(env);
  try {
    await database.db.transaction(async (tx) => {
      const inserted = await tx.insert(spendLogs).values(records.map(toRow)).onConflictDoNothing()
        .returning({ request_id: spendLogs.request_id });
      const fresh = new Set(inserted.map((r) => r.request_id));
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
    console.error(`spend-log batch of ${records.length} failed, retrying:`, err instanceof Error ? err.message : String(err));
    const attempts = Math.max(...batch.messages.map((m) => m.attempts));
    batch.retryAll({ delaySeconds: Math.min(300, 2 ** attempts) });
  } finally {
    ctx.waitUntil(database.close());
  }
}

function isRecord(value: unknown): value is SpendLogRecord {
  return !!value && typeof value === 'object' && typeof (value as SpendLogRecord).request_id === 'string';
}

function toRow(r: SpendLogRecord): typeof spendLogs.$inferInsert {
  return {
    ...r,
    startTime: new Date(r.startTime),
    endTime: new Date(r.endTime),
    completionStartTime: r.completionStartTime ? new Date(r.completionStartTime) : null,
    messages: r.messages ?? null,
    response: r.response ?? null,
  };
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
