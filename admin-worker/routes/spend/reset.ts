import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { GatewayError } from '../../../worker/errors.ts';
import { type EntityKind, resetLimiterSpend } from '../../../worker/limits/client.ts';
import { writeAudit } from '../../lib/audit.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';

/**
 * `POST /global/spend/reset`, master key only (as in LiteLLM): every key's
 * and team's spend back to 0; the spend logs and daily rollups are kept.
 */
export const spendResetRoutes = new Hono<AdminBindings>();

/** The entities LiteLLM's reset zeroes, with their table, id and spend columns (a team's is team_spend here: drizzle/schema/teams.ts). */
const ENTITIES: { kind: EntityKind; table: string; id: string; spend: string }[] = [
  { kind: 'key', table: 'LiteLLM_VerificationToken', id: 'token', spend: 'spend' },
  { kind: 'team', table: 'LiteLLM_TeamTable', id: 'team_id', spend: 'team_spend' },
];
/** Limiters told at once. */
const LIMITER_PARALLELISM = 16;

describeRoute({ method: 'post', path: '/global/spend/reset', summary: "Every key's and team's spend back to 0 (master key only); spend logs are kept", tag: 'spend' });
spendResetRoutes.post('/global/spend/reset', async (c) => {
  if (c.get('caller').kind !== 'master') {
    throw new GatewayError('Only the master key can reset the global spend (/global/spend/reset).', { status: 403, type: 'auth_error' });
  }
  const { db, pool } = c.get('db')();
  // Each limiter is told first (it holds the spend the gateway enforces); only the entities whose limiter took
  // it are zeroed in Postgres, so a limiter that could not be reached keeps its row's spend and the next call
  // of this route picks it up again: no entity ends up reset in one place and not the other.
  const reset = new Map<EntityKind, { ids: string[]; spend: number }>();
  let failed = 0;
  for (const entity of ENTITIES) {
    const { rows } = await pool.query<{ id: string; spend: number }>(`SELECT "${entity.id}"::text AS id, "${entity.spend}" AS spend FROM "${entity.table}" WHERE "${entity.spend}" <> 0`);
    const done: string[] = [];
    let spend = 0;
    for (let i = 0; i < rows.length; i += LIMITER_PARALLELISM) {
      const slice = rows.slice(i, i + LIMITER_PARALLELISM);
      const results = await Promise.allSettled(slice.map((r) => resetLimiterSpend(c.env, entity.kind, r.id, undefined, 0)));
      results.forEach((result, j) => {
        const row = slice[j]!;
        if (result.status === 'fulfilled') {
          done.push(row.id);
          spend += row.spend;
        } else {
          failed++;
          console.error(`global spend reset: limiter ${entity.kind}:${entity.kind === 'key' ? `${row.id.slice(0, 8)}...` : row.id} not reset:`, result.reason instanceof Error ? result.reason.message : String(result.reason));
        }
      });
    }
    reset.set(entity.kind, { ids: done, spend });
  }
  await db.transaction(async (tx) => {
    for (const entity of ENTITIES) {
      const { ids, spend } = reset.get(entity.kind)!;
      if (!ids.length) continue;
      await tx.execute(sql`UPDATE ${sql.raw(`"${entity.table}"`)} SET ${sql.raw(`"${entity.spend}"`)} = 0 WHERE ${sql.raw(`"${entity.id}"`)}::text = ANY(${sql.param(ids)}::text[])`);
      // One audit row a table: the reset may touch thousands of rows.
      await writeAudit(tx, {
        caller: c.get('caller'), action: 'updated', table: entity.table, objectId: '*',
        before: { entities: ids.length, spend }, after: { spend: 0 },
      });
    }
  });
  if (failed) {
    throw new GatewayError(`Spend reset for all but ${failed} keys and teams, whose limiters could not be reached; their spend is unchanged. Call /global/spend/reset again.`, { status: 503, type: 'service_unavailable' });
  }
  return c.json({ message: 'Spend for all API Keys and Teams reset successfully', status: 'success' });
});
