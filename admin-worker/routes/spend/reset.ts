import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { GatewayError } from '../../../worker/errors.ts';
import { type EntityKind, resetLimiterSpend } from '../../../worker/limits/client.ts';
import { writeAudit } from '../../lib/audit.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { log } from '../../../worker/telemetry/log.ts';

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

interface Zeroed { entity: typeof ENTITIES[number]; id: string; spend: number }

/** An entity's table, id and spend column names, quoted for SQL. */
const columnsOf = (entity: typeof ENTITIES[number]) => [entity.table, entity.id, entity.spend].map((name) => sql.raw(`"${name}"`));

describeRoute({ method: 'post', path: '/global/spend/reset', summary: "Every key's and team's spend back to 0 (master key only); spend logs are kept", tag: 'spend' });
spendResetRoutes.post('/global/spend/reset', async (c) => {
  if (c.get('caller').kind !== 'master') {
    throw new GatewayError('Only the master key can reset the global spend (/global/spend/reset).', { status: 403, type: 'auth_error' });
  }
  const { db } = c.get('db')();
  // Postgres first, a statement a table (the rows locked, so spend the consumer adds meanwhile lands after
  // the reset, not into it). A limiter that reads Postgres from now on finds 0 and keeps its own count,
  // which is higher, until it is told below; one told first could read the old spend back.
  const zeroed: Zeroed[] = await db.transaction(async (tx) => {
    const all: Zeroed[] = [];
    for (const entity of ENTITIES) {
      const [table, id, spend] = columnsOf(entity);
      const { rows } = await tx.execute<{ id: string; spend: number }>(sql`
        WITH old AS (SELECT ${id} AS id, ${spend} AS spend FROM ${table} WHERE ${spend} <> 0 FOR UPDATE)
        UPDATE ${table} t SET ${spend} = 0 FROM old WHERE t.${id} = old.id
        RETURNING old.id::text AS id, old.spend::float8 AS spend`);
      all.push(...rows.map((r) => ({ entity, id: r.id, spend: Number(r.spend) })));
    }
    return all;
  });
  const failed: Zeroed[] = [];
  for (let i = 0; i < zeroed.length; i += LIMITER_PARALLELISM) {
    const slice = zeroed.slice(i, i + LIMITER_PARALLELISM);
    const results = await Promise.allSettled(slice.map((z) => resetLimiterSpend(c.env, z.entity.kind, z.id, undefined, 0)));
    results.forEach((result, j) => {
      if (result.status === 'fulfilled') return;
      const z = slice[j]!;
      failed.push(z);
      log.error(`global spend reset: limiter ${z.entity.kind}:${z.entity.kind === 'key' ? `${z.id.slice(0, 8)}...` : z.id} not reset:`, result.reason instanceof Error ? result.reason.message : String(result.reason));
    });
  }
  await db.transaction(async (tx) => {
    // An entity whose limiter could not be told gets its spend back (plus what landed since), so the
    // limiter and Postgres agree and the next call of this route finds it again.
    for (const entity of ENTITIES) {
      const back = failed.filter((z) => z.entity === entity);
      if (back.length) {
        const [table, id, spend] = columnsOf(entity);
        await tx.execute(sql`
          UPDATE ${table} t SET ${spend} = t.${spend} + b.spend
          FROM unnest(${sql.param(back.map((z) => z.id))}::text[], ${sql.param(back.map((z) => z.spend))}::float8[]) AS b(id, spend)
          WHERE t.${id}::text = b.id`);
      }
      const done = zeroed.filter((z) => z.entity === entity && !back.includes(z));
      // One audit row a table: the reset may touch thousands of rows.
      if (done.length) {
        await writeAudit(tx, {
          caller: c.get('caller'), action: 'updated', table: entity.table, objectId: '*',
          before: { entities: done.length, spend: done.reduce((n, z) => n + z.spend, 0) }, after: { spend: 0 },
        });
      }
    }
  });
  if (failed.length) {
    throw new GatewayError(`Spend reset for all but ${failed.length} keys and teams, whose limiters could not be reached; their spend is unchanged. Call /global/spend/reset again.`, { status: 503, type: 'service_unavailable' });
  }
  return c.json({ message: 'Spend for all API Keys and Teams reset successfully', status: 'success' });
});
