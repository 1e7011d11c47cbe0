import { sql } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { type DatabaseEnv, openDatabase } from '../../worker/db/client.ts';
import { type EntityKind, type LimiterEnv, resetLimiterSpend } from '../../worker/limits/client.ts';
import { TAG_PREFIX } from '../../worker/limits/router-budgets.ts';
import { nextBudgetReset } from '../../worker/limits/windows.ts';
import { log } from '../../worker/telemetry/log.ts';

export interface BudgetResetOptions {
  now: Date;
  /** `litellm_settings.timezone`: where daily, weekly and monthly windows are aligned. */
  timeZone?: string;
  /** Entities per statement. */
  batchSize?: number;
  /** Stop starting new batches after this long; what is left is still due at the next tick. */
  timeBudgetMs?: number;
  /** `litellm_settings.tag_budget_config`'s tags: their limiters keep the config's budget, not their rows'. */
  configTagBudgets?: ReadonlySet<string>;
}

export type BudgetResetCounts = Record<Exclude<EntityKind, 'global' | 'agent'> | 'team_member' | 'tag' | 'budget', number>;

/** Entities with budget columns of their own. Keys and teams may take the duration from their budget row. */
const OWN = [
  { kind: 'key', table: 'LiteLLM_VerificationToken', id: 'token', spend: 'spend', budgetRow: true },
  { kind: 'team', table: 'LiteLLM_TeamTable', id: 'team_id', spend: 'team_spend', budgetRow: true },
  { kind: 'user', table: 'LiteLLM_UserTable', id: 'user_id', spend: 'spend', budgetRow: false },
] as const;

/**
 * Entities whose window is their budget row's (LiteLLM_BudgetTable.budget_reset_at):
 * end users and organizations, team memberships, tags, and keys and teams that
 * have no budget window of their own. `id` is what their limiter is named by
 * (a tag's with TAG_PREFIX).
 */
const MEMBERS = [
  { kind: 'end_user', table: 'LiteLLM_EndUserTable', id: 'user_id', order: 'user_id', spend: 'spend', where: '' },
  { kind: 'org', table: 'LiteLLM_OrganizationTable', id: 'organization_id', order: 'organization_id', spend: 'spend', where: '' },
  { kind: 'key', table: 'LiteLLM_VerificationToken', id: 'token', order: 'token', spend: 'spend', where: 'AND budget_reset_at IS NULL AND budget_duration IS NULL' },
  { kind: 'team', table: 'LiteLLM_TeamTable', id: 'team_id', order: 'team_id', spend: 'team_spend', where: 'AND budget_reset_at IS NULL AND budget_duration IS NULL' },
  // Locked in (team_id, user_id) order, as the spend-log write updates memberships.
  { kind: 'team_member', table: 'LiteLLM_TeamMembership', id: "user_id || ':' || team_id", order: 'team_id, user_id', spend: 'spend', where: '' },
  // A tag's spend as /tag/info shows it; its limiter (global:tag:<name>) is told like the others'.
  { kind: 'tag', table: 'LiteLLM_TagTable', id: 'tag_name', order: 'tag_name', spend: 'spend', where: '' },
] as const;

/**
 * LiteLLM's reset_budget_job: every key, team and user whose budget_reset_at
 * has passed gets spend 0 and its next reset time (nextBudgetReset of its
 * budget_duration, from now, in `timeZone`); so do the end users,
 * organizations, team memberships, tags and budget-less keys and teams of every
 * budget row whose budget_reset_at has passed, and then the row itself.
 * Postgres's spend column so stays the current window's spend.
 *
 * Each statement resets a bounded batch and commits on its own; after it
 * commits, each reset entity's limiter is told (resetLimiterSpend). Entities
 * with windows of their own are taken with SKIP LOCKED, so overlapping runs
 * split the work (one skipped stays due). A budget row is advanced only once
 * all its members are reset (waiting for those a spend write holds), so a
 * run cut short by its time budget is finished by the next one.
 */
export async function resetDueBudgets(env: DatabaseEnv & LimiterEnv, options: BudgetResetOptions): Promise<BudgetResetCounts> {
  const batchSize = options.batchSize ?? 500;
  const deadline = Date.now() + (options.timeBudgetMs ?? 20_000);
  const now = options.now;
  const timeZone = options.timeZone ?? 'UTC';
  const counts: BudgetResetCounts = { key: 0, team: 0, user: 0, org: 0, end_user: 0, team_member: 0, tag: 0, budget: 0 };
  const nextReset = (duration: string) => (duration ? nextBudgetReset(duration, now, timeZone) ?? null : null);
  const database = openDatabase(env);
  try {
    const db = database.db;
    for (const entity of OWN) {
      const duration = entity.budgetRow ? 'COALESCE(t.budget_duration, b.budget_duration, \'\')' : 'COALESCE(t.budget_duration, \'\')';
      const join = entity.budgetRow ? 'LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = t.budget_id' : '';
      const from = sql.raw(`"${entity.table}" t ${join}`);
      // The windows' next ends, one per duration in use; a duration that cannot be read stops the resets (NULL).
      const seen = await db.execute<{ duration: string }>(sql`
        SELECT DISTINCT ${sql.raw(duration)} AS duration FROM ${from} WHERE t.budget_reset_at <= ${now.toISOString()}::timestamptz`);
      const durations = seen.rows.map((r) => r.duration);
      if (durations.length === 0) continue;
      const resets = durations.map((d) => nextReset(d)?.toISOString() ?? null);
      for (;;) {
        const result = await db.execute<{ id: string }>(sql`
          WITH due AS (
            SELECT t.${sql.raw(entity.id)} AS id, ${sql.raw(duration)} AS duration FROM ${from}
            WHERE t.budget_reset_at <= ${now.toISOString()}::timestamptz AND ${sql.raw(duration)} = ANY(${sql.param(durations)}::text[])
            ORDER BY t.budget_reset_at LIMIT ${batchSize}
            FOR UPDATE OF t SKIP LOCKED)
          UPDATE ${sql.raw(`"${entity.table}"`)} e SET ${sql.raw(entity.spend)} = 0, budget_reset_at = m.reset_at
          FROM due JOIN unnest(${sql.param(durations)}::text[], ${sql.param(resets)}::timestamptz[]) AS m(duration, reset_at) ON m.duration = due.duration
          WHERE e.${sql.raw(entity.id)} = due.id
          RETURNING e.${sql.raw(entity.id)} AS id`);
        counts[entity.kind] += result.rows.length;
        await resetLimiters(env, entity.kind, result.rows.map((r) => r.id));
        if (result.rows.length < batchSize || Date.now() >= deadline) break;
      }
      if (Date.now() >= deadline) return counts;
    }

    const budgets = await db.execute<{ budget_id: string; duration: string }>(sql`
      SELECT budget_id, COALESCE(budget_duration, '') AS duration FROM "LiteLLM_BudgetTable"
      WHERE budget_reset_at <= ${now.toISOString()}::timestamptz ORDER BY budget_reset_at LIMIT ${batchSize}`);
    for (const budget of budgets.rows) {
      if (!(await resetMembers(db, env, budget.budget_id, batchSize, deadline, counts, options.configTagBudgets))) return counts;
      const advanced = await db.execute(sql`
        UPDATE "LiteLLM_BudgetTable" SET budget_reset_at = ${nextReset(budget.duration)?.toISOString() ?? null}::timestamptz
        WHERE budget_id = ${budget.budget_id} AND budget_reset_at <= ${now.toISOString()}::timestamptz`);
      counts.budget += advanced.rowCount ?? 0;
      if (Date.now() >= deadline) return counts;
    }
    return counts;
  } finally {
    await database.close();
  }
}

/** Zeroes the spend of a budget row's members, a batch per statement; false when the time budget ran out first. */
async function resetMembers(db: NeonDatabase, env: LimiterEnv, budgetId: string, batchSize: number, deadline: number, counts: BudgetResetCounts, configTags?: ReadonlySet<string>): Promise<boolean> {
  for (const member of MEMBERS) {
    const table = sql.raw(`"${member.table}"`);
    for (;;) {
      // Only members with spend: the rest have nothing to reset, and this way a cut-short run resumes where it stopped.
      // Not SKIP LOCKED: the budget row moves on once its members are done, so a member a spend-log write
      // holds for a moment is waited for, not left with its old spend for a whole window. Locked in the
      // order those writes lock them (`order`).
      // By id, not ctid: a row a writer changed meanwhile has a new ctid, which the update's own snapshot does not see.
      const result = await db.execute<{ id: string }>(sql`
        UPDATE ${table} SET ${sql.raw(member.spend)} = 0
        WHERE budget_id = ${budgetId} AND (${sql.raw(member.id)}) = ANY(ARRAY(
          SELECT ${sql.raw(member.id)} FROM ${table} WHERE budget_id = ${budgetId} AND ${sql.raw(member.spend)} <> 0 ${sql.raw(member.where)}
          ORDER BY ${sql.raw(member.order)} LIMIT ${batchSize} FOR UPDATE))
        RETURNING ${sql.raw(member.id)} AS id`);
      counts[member.kind] += result.rows.length;
      // A tag's limiter is a global one, named by the tag (router-budgets.ts); one whose budget config.yaml
      // sets (tag_budget_config, which wins) keeps that budget's own window.
      if (member.kind === 'tag') await resetLimiters(env, 'global', result.rows.filter((r) => !configTags?.has(r.id)).map((r) => TAG_PREFIX + r.id));
      else await resetLimiters(env, member.kind, result.rows.map((r) => r.id));
      if (result.rows.length < batchSize) break;
      if (Date.now() >= deadline) return false;
    }
  }
  return true;
}

/** Tells each reset entity's limiter, a few at a time; a limiter that fails is logged (it also rolls its window itself). */
async function resetLimiters(env: LimiterEnv, kind: EntityKind, ids: string[]): Promise<void> {
  if (!env.LIMITER) return;
  for (let i = 0; i < ids.length; i += 16) {
    const results = await Promise.allSettled(ids.slice(i, i + 16).map((id) => resetLimiterSpend(env, kind, id, Date.now())));
    results.forEach((r, j) => {
      if (r.status === 'rejected') {
        const id = ids[i + j] ?? '';
        log.error(`budget reset: limiter ${kind}:${kind === 'key' ? `${id.slice(0, 8)}...` : id} not reset:`, r.reason instanceof Error ? r.reason.message : String(r.reason));
      }
    });
  }
}
