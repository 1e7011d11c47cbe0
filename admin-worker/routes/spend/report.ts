/**
 * `/global/spend/report`, `/global/spend/teams` and `/global/spend/keys`:
 * sums over LiteLLM_SpendLogs in LiteLLM's response shapes. One grouped
 * query each (the "startTime" and (team_id, created_at) / (api_key,
 * "startTime") indexes serve the range and filters); the nesting is done here.
 */
import type { z } from 'zod';
import type { Pool } from '@neondatabase/serverless';
import { DAY_SQL, type DayRange, keyHash, type reportQuery, Where } from './query.ts';

type ReportQuery = z.output<typeof reportQuery>;

interface Cell {
  day: string;
  dim_id: string | null;
  dim_name: string | null;
  key_name: string | null;
  model: string;
  api_key: string;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  requests: number;
}

/** What each grouping groups on, and the label it shows. */
const DIMENSIONS = {
  team: { id: 's.team_id', name: `COALESCE(t.team_alias, s.team_id, 'Unassigned Team')` },
  customer: { id: 's.end_user', name: 's.end_user' },
  key: { id: 's.api_key', name: 'v.key_alias' },
  api_key: { id: 's.api_key', name: 'v.key_alias' },
  model: { id: 's.model', name: 's.model' },
  day: { id: 'NULL::text', name: 'NULL::text' },
} as const;

async function cells(pool: Pool, q: ReportQuery, range: DayRange): Promise<Cell[]> {
  const where = new Where().range('s."startTime"', range);
  if (q.api_key) where.add('s.api_key = ?', await keyHash(q.api_key));
  if (q.internal_user_id) where.add('s."user" = ?', q.internal_user_id);
  if (q.team_id) where.add('s.team_id = ?', q.team_id);
  if (q.customer_id) where.add('s.end_user = ?', q.customer_id);
  const dim = DIMENSIONS[q.group_by];
  const { rows } = await pool.query<Cell>(`
    SELECT ${DAY_SQL} AS day, ${dim.id} AS dim_id, ${dim.name} AS dim_name, v.key_name AS key_name, s.model, s.api_key,
           SUM(s.spend)::float8 AS spend, SUM(s.total_tokens)::float8 AS total_tokens,
           SUM(s.prompt_tokens)::float8 AS prompt_tokens, SUM(s.completion_tokens)::float8 AS completion_tokens,
           COUNT(*)::float8 AS requests
    FROM "LiteLLM_SpendLogs" s
    LEFT JOIN "LiteLLM_TeamTable" t ON t.team_id = s.team_id
    LEFT JOIN "LiteLLM_VerificationToken" v ON v.token = s.api_key
    ${where}
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 5, 6`, where.args);
  return rows;
}

/** Groups in first-seen order (rows come sorted). */
function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const total = (list: readonly Cell[], field: 'spend' | 'total_tokens' | 'prompt_tokens' | 'completion_tokens' | 'requests') => list.reduce((sum, c) => sum + c[field], 0);

/** Sums cells that share `key` into one entry per key. */
function rollUp(list: readonly Cell[], key: (c: Cell) => string): Cell[] {
  return [...groupBy(list, key).values()].map((same) => ({
    ...(same[0] as Cell),
    spend: total(same, 'spend'),
    total_tokens: total(same, 'total_tokens'),
    prompt_tokens: total(same, 'prompt_tokens'),
    completion_tokens: total(same, 'completion_tokens'),
    requests: total(same, 'requests'),
  }));
}

/**
 * LiteLLM's shapes: `team` (default) and `customer` as LiteLLM returns them,
 * `[{group_by_day, teams|customers: [{team_name|customer, total_spend,
 * metadata: [{model, api_key, spend, total_tokens}]}]}]`; `api_key` as
 * LiteLLM's whole-range list `[{api_key, total_cost, total_input_tokens,
 * total_output_tokens, model_details}]`; and, ours, `key` (`api_keys`),
 * `model` (`models`) per day, and `day` (one total per day).
 */
export async function spendReport(pool: Pool, q: ReportQuery, range: DayRange): Promise<unknown[]> {
  const rows = await cells(pool, q, range);
  if (q.group_by === 'api_key') {
    const byKey = [...groupBy(rows, (c) => c.api_key).entries()].map(([apiKey, list]) => ({
      api_key: apiKey,
      total_cost: total(list, 'spend'),
      total_input_tokens: total(list, 'prompt_tokens'),
      total_output_tokens: total(list, 'completion_tokens'),
      model_details: rollUp(list, (c) => c.model).map((m) => ({
        model: m.model, total_cost: m.spend, total_input_tokens: m.prompt_tokens, total_output_tokens: m.completion_tokens,
      })),
    }));
    return byKey.sort((a, b) => b.total_cost - a.total_cost);
  }
  return [...groupBy(rows, (c) => c.day).entries()].map(([day, list]) => {
    if (q.group_by === 'day') {
      return { group_by_day: day, total_spend: total(list, 'spend'), total_tokens: total(list, 'total_tokens'), api_requests: total(list, 'requests') };
    }
    const groups = [...groupBy(list, (c) => c.dim_id).values()];
    switch (q.group_by) {
      case 'team':
        return { group_by_day: day, teams: groups.map((g) => ({ team_id: g[0]?.dim_id ?? null, team_name: g[0]?.dim_name, total_spend: total(g, 'spend'), metadata: g.map(detail) })) };
      case 'customer':
        return { group_by_day: day, customers: groups.map((g) => ({ customer: g[0]?.dim_id ?? null, total_spend: total(g, 'spend'), metadata: g.map(detail) })) };
      case 'key':
        return {
          group_by_day: day,
          api_keys: groups.map((g) => ({
            api_key: g[0]?.api_key, key_alias: g[0]?.dim_name ?? null, key_name: g[0]?.key_name ?? null, total_spend: total(g, 'spend'),
            metadata: rollUp(g, (c) => c.model).map((m) => ({ model: m.model, spend: m.spend, total_tokens: m.total_tokens })),
          })),
        };
      case 'model':
        return {
          group_by_day: day,
          models: groups.map((g) => ({
            model: g[0]?.model, total_spend: total(g, 'spend'),
            metadata: g.map((c) => ({ api_key: c.api_key, spend: c.spend, total_tokens: c.total_tokens })),
          })),
        };
    }
  });
}

const detail = (c: Cell) => ({ model: c.model, api_key: c.api_key, spend: c.spend, total_tokens: c.total_tokens });

/**
 * LiteLLM's UI shape: `daily_spend` `[{date, <team>: spend}]`, `teams` (the
 * labels), `total_spend_per_team` top 10 `[{team_id, total_spend}]`. As in
 * LiteLLM the label is the team alias (here: else the team id, else
 * "Unassigned"), and `team_id` holds that label. Sums are not rounded.
 */
export async function spendPerTeam(pool: Pool, range: DayRange) {
  const where = new Where().range('s."startTime"', range);
  const { rows } = await pool.query<{ day: string; team: string; spend: number }>(`
    SELECT ${DAY_SQL} AS day, COALESCE(t.team_alias, s.team_id, 'Unassigned') AS team, SUM(s.spend)::float8 AS spend
    FROM "LiteLLM_SpendLogs" s LEFT JOIN "LiteLLM_TeamTable" t ON t.team_id = s.team_id
    ${where}
    GROUP BY 1, s.team_id, t.team_alias ORDER BY 1, 2`, where.args);
  const daily = new Map<string, Record<string, number | string>>();
  const totals = new Map<string, number>();
  for (const r of rows) {
    const day = daily.get(r.day) ?? { date: r.day };
    day[r.team] = ((day[r.team] as number | undefined) ?? 0) + r.spend;
    daily.set(r.day, day);
    totals.set(r.team, (totals.get(r.team) ?? 0) + r.spend);
  }
  return {
    daily_spend: [...daily.values()],
    teams: [...totals.keys()],
    total_spend_per_team: [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([team, spend]) => ({ team_id: team, total_spend: spend })),
  };
}

/** Top keys by spend over the range: `[{api_key, total_spend, key_alias, key_name}]` (LiteLLM's Last30dKeysBySpend). */
export async function topKeys(pool: Pool, range: DayRange, limit: number | undefined) {
  const where = new Where().range('s."startTime"', range);
  const { rows } = await pool.query(`
    SELECT s.api_key, SUM(s.spend)::float8 AS total_spend, v.key_alias, v.key_name
    FROM "LiteLLM_SpendLogs" s LEFT JOIN "LiteLLM_VerificationToken" v ON v.token = s.api_key
    ${where}
    GROUP BY s.api_key, v.key_alias, v.key_name ORDER BY total_spend DESC, s.api_key
    ${limit ? `LIMIT ${Math.floor(limit)}` : ''}`, where.args);
  return rows;
}
