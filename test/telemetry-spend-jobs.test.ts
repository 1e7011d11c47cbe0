/**
 * The admin Worker's scheduled jobs (admin-worker/jobs/), called directly (in
 * Node) against a real database through the same driver and WebSocket proxy
 * the Workers use: spend-log retention and the budget reset.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { num, useWorkerDatabase, type WorkerDbEnv as Env, workerModule } from './support/worker-database.ts';

const retention = () => workerModule<{
  deleteOldSpendLogs(env: Env, o: { before: Date; chunk?: number }): Promise<{ deleted: number; more: boolean }>;
  deleteOldSpendLogIds(env: Env, o: { now: Date; chunk?: number }): Promise<{ deleted: number; more: boolean }>;
}>('admin-worker/jobs/spend-log-retention.ts');
const budgetReset = () => workerModule<{ resetDueBudgets(env: Env, o: { now: Date; timeZone?: string; batchSize?: number }): Promise<Record<string, number>> }>('admin-worker/jobs/budget-reset.ts');

const db = useWorkerDatabase();
const one = db.one;

describe('spend-log retention', () => {
  it('deletes rows older than the period in bounded chunks and keeps the rest and the rollups', async () => {
    const { deleteOldSpendLogs } = await retention();
    const now = Date.now();
    const day = 86_400_000;
    const apiKey = sha256('sk-retention');
    const insert = (ids: string[], daysAgo: (i: number) => number) => query(db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, api_key, spend, "startTime", "endTime")
      SELECT id, $2, 0.01, t, t FROM unnest($1::text[], $3::timestamptz[]) AS u(id, t)`,
    [ids, apiKey, ids.map((_, i) => new Date(now - daysAgo(i) * day).toISOString())]);
    const old = Array.from({ length: 7 }, (_, i) => `old-${i}`);
    const recent = Array.from({ length: 3 }, (_, i) => `recent-${i}`);
    await insert(old, (i) => 31 + i);
    await insert(recent, (i) => 29 - i * 10);
    await query(db.url, `INSERT INTO "LiteLLM_DailyKeySpend" (api_key, date, spend, api_requests) VALUES ($1, '2026-10-01', 0.07, 7)`, [apiKey]);
    const count = async () => num((await one('SELECT count(*) AS n FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [apiKey])).n);
    expect(await count()).toBe(10);

    const result = await deleteOldSpendLogs(db.env, { before: new Date(now - 30 * day), chunk: 3 });
    expect(result).toEqual({ deleted: 7, more: false });
    const left = await query(db.url, 'SELECT request_id FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY 1', [apiKey]);
    expect(left.map((r) => r.request_id)).toEqual(recent);
    // The daily rollups keep the history.
    expect(await one('SELECT api_requests FROM "LiteLLM_DailyKeySpend" WHERE api_key = $1', [apiKey])).toEqual({ api_requests: '7' });
    expect(await deleteOldSpendLogs(db.env, { before: new Date(now - 30 * day) })).toEqual({ deleted: 0, more: false });
    expect(await count()).toBe(3);
  });
});

describe('spend-log id retention (disable_spend_logs)', () => {
  it('forgets request ids written more than 30 days ago, in chunks, and keeps the rest', async () => {
    const now = new Date('2026-11-20T12:00:00Z');
    const day = 86_400_000;
    const ids = Array.from({ length: 7 }, (_, i) => [`old-${i}`, new Date(now.getTime() - 31 * day - i * 1000)] as const);
    await query(db.url, `INSERT INTO "Tollgate_SpendLogIds" (request_id, written_at)
      SELECT * FROM unnest($1::text[], $2::timestamptz[])`, [
      [...ids.map(([id]) => id), 'recent-1', 'recent-2'],
      [...ids.map(([, at]) => at.toISOString()), new Date(now.getTime() - 29 * day).toISOString(), now.toISOString()],
    ]);
    const { deleteOldSpendLogIds } = await retention();
    expect(await deleteOldSpendLogIds(db.env, { now, chunk: 3 })).toEqual({ deleted: 7, more: false });
    expect((await query(db.url, 'SELECT request_id FROM "Tollgate_SpendLogIds" ORDER BY 1')).map((r) => r.request_id)).toEqual(['recent-1', 'recent-2']);
  });
});

describe('budget reset job', () => {
  it('zeroes the spend of every entity whose window ended and sets its next reset; leaves the others', async () => {
    const { resetDueBudgets } = await budgetReset();
    const now = new Date('2026-11-25T14:30:00Z');
    const past = '2026-11-25T00:00:00Z';
    const future = '2026-11-26T00:00:00Z';
    const [due, notDue, inherits] = [sha256('sk-reset-due'), sha256('sk-reset-later'), sha256('sk-reset-budget')];
    await query(db.url, `INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, budget_duration, budget_reset_at)
      VALUES ('tier-daily', 10, '1d', $1), ('tier-later', 10, '1d', $2)`, [past, future]);
    await query(db.url, `INSERT INTO "LiteLLM_VerificationToken" (token, spend, budget_duration, budget_reset_at, budget_id) VALUES
      ($1, 5, '1d', $4, NULL), ($2, 5, '1d', $5, NULL), ($3, 5, NULL, NULL, 'tier-daily')`, [due, notDue, inherits, past, future]);
    await query(db.url, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_spend, budget_duration, budget_reset_at) VALUES
      ('reset-team', 7, '7d', $1), ('later-team', 7, '7d', $2)`, [past, future]);
    await query(db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, spend, budget_duration, budget_reset_at) VALUES
      ('reset-user', 3, '30d', $1), ('odd-user', 3, 'weekly', $1)`, [past]);
    await exec(db.url, `INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, budget_id) VALUES
      ('reset-cust-1', 2, 'tier-daily'), ('reset-cust-2', 4, 'tier-daily'), ('reset-cust-3', 0, 'tier-daily'), ('later-cust', 2, 'tier-later');
      INSERT INTO "LiteLLM_OrganizationTable" (organization_id, spend, budget_id) VALUES ('reset-org', 9, 'tier-daily'), ('later-org', 9, 'tier-later');
      INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend, budget_id) VALUES ('reset-user', 'reset-team', 1, 'tier-daily');
      INSERT INTO "LiteLLM_TagTable" (tag_name, spend, budget_id) VALUES ('reset-tag', 6, 'tier-daily'), ('later-tag', 6, 'tier-later');`);

    const counts = await resetDueBudgets(db.env, { now, timeZone: 'Asia/Dubai', batchSize: 1 });
    expect(counts).toEqual({ key: 2, team: 1, user: 2, org: 1, end_user: 2, team_member: 1, tag: 1, budget: 1 });

    const spendOf = async (table: string, id: string, value: string, column = 'spend') =>
      num((await one(`SELECT ${column} AS spend FROM "${table}" WHERE ${id} = $1`, [value])).spend);
    const resetAt = async (table: string, id: string, value: string) =>
      (await one(`SELECT budget_reset_at FROM "${table}" WHERE ${id} = $1`, [value])).budget_reset_at as Date | null;
    // Windows aligned as LiteLLM aligns them, in litellm_settings.timezone (Dubai: UTC+4).
    expect(await spendOf('LiteLLM_VerificationToken', 'token', due)).toBe(0);
    expect((await resetAt('LiteLLM_VerificationToken', 'token', due))?.toISOString()).toBe('2026-11-25T20:00:00.000Z');
    expect(await spendOf('LiteLLM_TeamTable', 'team_id', 'reset-team', 'team_spend')).toBe(0);
    expect((await resetAt('LiteLLM_TeamTable', 'team_id', 'reset-team'))?.toISOString()).toBe('2026-11-29T20:00:00.000Z');
    expect(await spendOf('LiteLLM_UserTable', 'user_id', 'reset-user')).toBe(0);
    expect((await resetAt('LiteLLM_UserTable', 'user_id', 'reset-user'))?.toISOString()).toBe('2026-11-30T20:00:00.000Z');
    // A duration that cannot be read ends the window and stops the resets.
    expect(await spendOf('LiteLLM_UserTable', 'user_id', 'odd-user')).toBe(0);
    expect(await resetAt('LiteLLM_UserTable', 'user_id', 'odd-user')).toBeNull();
    // Through the budget row: its end users, organizations, members and budget-less keys, then the row itself.
    for (const id of ['reset-cust-1', 'reset-cust-2']) expect(await spendOf('LiteLLM_EndUserTable', 'user_id', id)).toBe(0);
    expect(await spendOf('LiteLLM_OrganizationTable', 'organization_id', 'reset-org')).toBe(0);
    expect(await spendOf('LiteLLM_TagTable', 'tag_name', 'reset-tag')).toBe(0);
    expect(await spendOf('LiteLLM_VerificationToken', 'token', inherits)).toBe(0);
    expect(num((await one(`SELECT spend FROM "LiteLLM_TeamMembership" WHERE user_id = 'reset-user'`)).spend)).toBe(0);
    expect((await resetAt('LiteLLM_BudgetTable', 'budget_id', 'tier-daily'))?.toISOString()).toBe('2026-11-25T20:00:00.000Z');
    // Not due yet: untouched.
    expect(await spendOf('LiteLLM_VerificationToken', 'token', notDue)).toBe(5);
    expect(await spendOf('LiteLLM_TeamTable', 'team_id', 'later-team', 'team_spend')).toBe(7);
    expect(await spendOf('LiteLLM_EndUserTable', 'user_id', 'later-cust')).toBe(2);
    expect(await spendOf('LiteLLM_OrganizationTable', 'organization_id', 'later-org')).toBe(9);
    expect(await spendOf('LiteLLM_TagTable', 'tag_name', 'later-tag')).toBe(6);
    expect((await resetAt('LiteLLM_BudgetTable', 'budget_id', 'tier-later'))?.toISOString()).toBe('2026-11-26T00:00:00.000Z');

    // Nothing is due any more.
    expect(Object.values(await resetDueBudgets(db.env, { now })).every((n) => n === 0)).toBe(true);
  });

  it('waits for a member a spend write holds, rather than leaving it its old spend for a whole window', async () => {
    const { resetDueBudgets } = await budgetReset();
    const now = new Date('2026-11-25T14:30:00Z');
    await exec(db.url, `INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, budget_duration, budget_reset_at) VALUES ('tier-held', 10, '1d', '2026-11-25T00:00:00Z');
      INSERT INTO "LiteLLM_TagTable" (tag_name, spend, budget_id) VALUES ('held-tag', 3, 'tier-held');
      INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, budget_id) VALUES ('held-cust', 2, 'tier-held');`);
    // A spend-log write in flight holds the tag's row (as the consumer's statement does), adding to the closing window.
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE "LiteLLM_TagTable" SET spend = spend + 1 WHERE tag_name = 'held-tag'`);
      const reset = resetDueBudgets(db.env, { now });
      // Commit only once the reset is waiting for the row (so skipping it, as before, would be seen).
      const deadline = Date.now() + 10_000;
      while (Number((await one(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%LiteLLM_TagTable%'`)).n) === 0) {
        if (Date.now() > deadline) throw new Error('the reset never waited for the held row');
        await new Promise((r) => setTimeout(r, 20));
      }
      await writer.query('COMMIT');
      expect(await reset).toMatchObject({ tag: 1, end_user: 1, budget: 1 });
    } finally {
      await writer.end();
    }
    expect(num((await one(`SELECT spend FROM "LiteLLM_TagTable" WHERE tag_name = 'held-tag'`)).spend)).toBe(0);
    expect(num((await one(`SELECT spend FROM "LiteLLM_EndUserTable" WHERE user_id = 'held-cust'`)).spend)).toBe(0);
  });
});
