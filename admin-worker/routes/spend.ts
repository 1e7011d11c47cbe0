import { Hono } from 'hono';
import { GatewayError } from '../../worker/errors.ts';
import { isAdminReader, requireAdminReader } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { budgetClock } from '../lib/budget-limits.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, parseQuery } from '../lib/validation.ts';
import { dayRange, DAY_SQL, daysOf, keyHash, keysQuery, outsideScope, rangeOrLast30Days, readerScope, reportQuery, spendLogsQuery, spendLogsUiQuery, spendUsersQuery, teamsQuery, topModelsQuery, uiRange, Where } from './spend/query.ts';
import { containing } from '../lib/sql-text.ts';
import { gatewayState } from '../../worker/state.ts';
import type { KeyRow } from '../../drizzle/schema/keys.ts';
import type { UserRow } from '../../drizzle/schema/principals.ts';
import { keyJson, userJson } from '../lib/serialize.ts';
import { spendPerTeam, spendReport, topKeys } from './spend/report.ts';
import { proxySpend } from '../../worker/limits/read-policy.ts';
import { limiterSpend } from '../../worker/limits/client.ts';
import { PROVIDER_PREFIX, providerBudget } from '../../worker/limits/router-budgets.ts';
import { nextBudgetReset } from '../../worker/limits/windows.ts';

/**
 * The spend routes of the management API (LiteLLM-compatible shapes), read
 * from LiteLLM_SpendLogs. `/spend/logs` answers any key (a virtual key sees
 * its own rows only); the `/global/spend/*` reports are for proxy admins and
 * proxy admin viewers.
 */
export const spendRoutes = new Hono<AdminBindings>();

const DEFAULT_ROW_LIMIT = 1000;

describeRoute({ method: 'get', path: '/spend/logs', summary: 'Spend log rows (by request_id, api_key, user_id, date range); a virtual key sees its own', tag: 'spend', query: spendLogsQuery });
spendRoutes.get('/spend/logs', async (c) => {
  const q = parseQuery(c, spendLogsQuery);
  let apiKey = q.api_key ? await keyHash(q.api_key) : undefined;
  if (!isAdminReader(c)) {
    const own = c.get('caller').token;
    if (apiKey && apiKey !== own) throw new GatewayError('You can only view the spend logs of your own key.', { status: 403, type: 'auth_error', param: 'api_key' });
    apiKey = own;
  }
  const where = new Where();
  if (q.request_id) where.add('s.request_id = ?', q.request_id);
  if (apiKey) where.add('s.api_key = ?', apiKey);
  if (q.user_id) where.add('s."user" = ?', q.user_id);
  const range = q.start_date || q.end_date ? dayRange(q.start_date ?? '1970-01-01', q.end_date ?? '9999-12-30') : undefined;
  where.range('s."startTime"', range);
  const { pool } = c.get('db')();

  // LiteLLM's legacy default: with both dates, spend per day unless summarize=false.
  if (q.start_date && q.end_date && q.summarize !== false && range) {
    const { rows } = await pool.query<{ day: string; api_key: string; user: string | null; model: string; spend: number }>(`
      SELECT ${DAY_SQL} AS day, s.api_key, s."user", s.model, SUM(s.spend)::float8 AS spend
      FROM "LiteLLM_SpendLogs" s ${where} GROUP BY 1, 2, 3, 4 ORDER BY 1`, where.args);
    const days = new Map(daysOf(range).map((d) => [d, { startTime: d, spend: 0, users: {} as Record<string, number>, models: {} as Record<string, number> } as Record<string, unknown>]));
    for (const r of rows) {
      const day = days.get(r.day) as { spend: number; users: Record<string, number>; models: Record<string, number> } & Record<string, unknown>;
      if (!day) continue;
      day.spend += r.spend;
      day[r.api_key] = ((day[r.api_key] as number | undefined) ?? 0) + r.spend;
      day.users[r.user ?? ''] = (day.users[r.user ?? ''] ?? 0) + r.spend;
      day.models[r.model] = (day.models[r.model] ?? 0) + r.spend;
    }
    return c.json([...days.values()]);
  }
  const { rows } = await pool.query(`SELECT s.* FROM "LiteLLM_SpendLogs" s ${where} ORDER BY s."startTime" DESC, s.request_id LIMIT ${q.limit ?? DEFAULT_ROW_LIMIT}`, where.args);
  return c.json(rows);
});

for (const path of ['/spend/logs/ui', '/spend/logs/v2']) {
  describeRoute({ method: 'get', path, summary: "Spend log rows a page at a time, newest first, for LiteLLM's UI (start_date and end_date required); an internal user sees its own", tag: 'spend', query: spendLogsUiQuery });
  spendRoutes.get(path, (c) => spendLogsPage(c, false));
}
describeRoute({ method: 'get', path: '/spend/logs/session/ui', summary: "A session's spend log rows a page at a time, in the order they were made (session_id required; the other filters of /spend/logs/ui optional)", tag: 'spend', query: spendLogsUiQuery });
spendRoutes.get('/spend/logs/session/ui', (c) => spendLogsPage(c, true));

/** A page of spend-log rows: a time range's, newest first; or (`session`) one session's, in the order they were made. */
async function spendLogsPage(c: AdminContext, session: boolean): Promise<Response> {
  if (session && !c.req.query('session_id')) throw badRequest('session_id is required', 'session_id');
  const q = parseQuery(c, spendLogsUiQuery);
  if (!session && (!q.start_date || !q.end_date)) throw badRequest('Start date and end date are required');
  const where = new Where();
  if (q.start_date && q.end_date) {
    const range = uiRange(q.start_date, q.end_date);
    where.add('s."startTime" >= ?', range.from).add(range.toIncluded ? 's."startTime" <= ?' : 's."startTime" < ?', range.to);
  }
  let apiKey = q.api_key ? await keyHash(q.api_key) : undefined;
  let userId = q.user_id;
  const scope = readerScope(c);
  if ('userId' in scope) {
    if (userId && userId !== scope.userId) throw outsideScope('spend logs of your own user', 'user_id');
    userId = scope.userId;
  } else if ('token' in scope) {
    if (apiKey && apiKey !== scope.token) throw outsideScope('spend logs of your own key', 'api_key');
    apiKey = scope.token;
  }
  if (apiKey) where.add('s.api_key = ?', apiKey);
  if (userId) where.add('s."user" = ?', userId);
  if (q.request_id) where.add('s.request_id = ?', q.request_id);
  if (q.team_id) where.add('s.team_id = ?', q.team_id);
  if (q.min_spend !== undefined) where.add('s.spend >= ?', q.min_spend);
  if (q.max_spend !== undefined) where.add('s.spend <= ?', q.max_spend);
  if (q.session_id) where.add('s.session_id = ?', q.session_id);
  if (q.status_filter) where.add('s.status = ?', q.status_filter);
  if (q.model) where.add('? IN (s.model_group, s.model)', q.model);
  if (q.model_id) where.add('s.model_id = ?', q.model_id);
  if (q.key_alias) where.add(`s.metadata->>'user_api_key_alias' = ?`, q.key_alias);
  if (q.end_user) where.add('s.end_user = ?', q.end_user);
  if (q.error_code) where.add(`s.metadata->'error_information'->>'error_code' = ?`, q.error_code);
  if (q.error_message) where.add(`s.metadata->'error_information'->>'error_message' ILIKE ?`, containing(q.error_message));
  const { pool } = c.get('db')();
  const [{ rows: counted }, { rows }] = await Promise.all([
    pool.query<{ total: number }>(`SELECT COUNT(*)::int AS total FROM "LiteLLM_SpendLogs" s ${where}`, where.args),
    pool.query(`SELECT s.* FROM "LiteLLM_SpendLogs" s ${where} ORDER BY s."startTime" ${session ? 'ASC' : 'DESC'}, s.request_id LIMIT ${q.page_size} OFFSET ${(q.page - 1) * q.page_size}`, where.args),
  ]);
  const total = counted[0]?.total ?? 0;
  return c.json({ data: rows, total, page: q.page, page_size: q.page_size, total_pages: Math.ceil(total / q.page_size) });
}

describeRoute({ method: 'get', path: '/global/spend/report', summary: 'Spend per day by team (default), customer, api_key, key, model or day', tag: 'spend', query: reportQuery });
spendRoutes.get('/global/spend/report', async (c) => {
  requireAdminReader(c, 'view global spend reports');
  const q = parseQuery(c, reportQuery);
  if (!q.start_date || !q.end_date) throw badRequest('Please provide start_date and end_date');
  return c.json(await spendReport(c.get('db')().pool, q, dayRange(q.start_date, q.end_date)));
});

describeRoute({ method: 'get', path: '/global/spend/teams', summary: 'Daily spend per team (last 30 days unless a range is given)', tag: 'spend', query: teamsQuery });
spendRoutes.get('/global/spend/teams', async (c) => {
  requireAdminReader(c, 'view global spend reports');
  const q = parseQuery(c, teamsQuery);
  return c.json(await spendPerTeam(c.get('db')().pool, rangeOrLast30Days(q.start_date, q.end_date)));
});

describeRoute({ method: 'get', path: '/global/spend/keys', summary: 'Top keys by spend (last 30 days unless a range is given)', tag: 'spend', query: keysQuery });
spendRoutes.get('/global/spend/keys', async (c) => {
  requireAdminReader(c, 'view global spend reports');
  const q = parseQuery(c, keysQuery);
  return c.json(await topKeys(c.get('db')().pool, rangeOrLast30Days(q.start_date, q.end_date), q.limit));
});

describeRoute({ method: 'get', path: '/spend/keys', summary: 'Every key with its spend (proxy admins and viewers)', tag: 'spend' });
spendRoutes.get('/spend/keys', async (c) => {
  requireAdminReader(c, 'view the spend of every key');
  const { rows } = await c.get('db')().pool.query<KeyRow>('SELECT * FROM "LiteLLM_VerificationToken" ORDER BY spend DESC, token');
  const clock = await budgetClock(c);
  return c.json(rows.map((row) => keyJson(row, clock)));
});

describeRoute({ method: 'get', path: '/spend/users', summary: 'Every user (or `?user_id=`) with its spend; a virtual key sees its own user', tag: 'spend', query: spendUsersQuery });
spendRoutes.get('/spend/users', async (c) => {
  const q = parseQuery(c, spendUsersQuery);
  let userId = q.user_id;
  const scope = readerScope(c);
  if (!('all' in scope)) {
    // A key without a user has no user's spend to read.
    const own = 'userId' in scope ? scope.userId : null;
    if (!own || (userId && userId !== own)) throw outsideScope('spend of your own user', 'user_id');
    userId = own;
  }
  const { rows } = await c.get('db')().pool.query<UserRow>(
    `SELECT * FROM "LiteLLM_UserTable" ${userId ? 'WHERE user_id = $1' : ''} ORDER BY spend DESC, user_id`, userId ? [userId] : []);
  return c.json(rows.map(userJson));
});

describeRoute({ method: 'get', path: '/spend/tags', summary: 'Spend and calls per request tag, from the spend logs (optionally in a date range)', tag: 'spend', query: teamsQuery });
spendRoutes.get('/spend/tags', async (c) => {
  requireAdminReader(c, 'view spend per tag');
  const q = parseQuery(c, teamsQuery);
  const where = new Where();
  if (q.start_date || q.end_date) where.range('s."startTime"', dayRange(q.start_date ?? '1970-01-01', q.end_date ?? '9999-12-30'));
  const { rows } = await c.get('db')().pool.query<{ individual_request_tag: string; log_count: number; total_spend: number }>(`
    SELECT t.tag AS individual_request_tag, COUNT(*)::int AS log_count, SUM(s.spend)::float8 AS total_spend
    FROM "LiteLLM_SpendLogs" s CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.request_tags) = 'array' THEN s.request_tags ELSE '[]'::jsonb END) AS t(tag)
    ${where} GROUP BY 1 ORDER BY 3 DESC, 1`, where.args);
  return c.json(rows);
});

describeRoute({ method: 'get', path: '/global/spend', summary: "Total spend of every call, and the proxy-wide budget", tag: 'spend' });
spendRoutes.get('/global/spend', async (c) => {
  requireAdminReader(c, 'view global spend');
  const { config } = await gatewayState(c.env);
  const spend = await proxySpend(c.get('db')().pool, config.general_settings.disable_spend_logs === true);
  return c.json({ spend, max_budget: config.general_settings.max_budget ?? config.litellm_settings.max_budget ?? null });
});

describeRoute({ method: 'get', path: '/provider/budgets', summary: "Each provider budget of router_settings.provider_budget_config: its limit, window, spend so far and next reset", tag: 'spend' });
spendRoutes.get('/provider/budgets', async (c) => {
  requireAdminReader(c, 'view provider budgets');
  const { config } = await gatewayState(c.env);
  const timeZone = config.litellm_settings.timezone ?? 'UTC';
  const providers: Record<string, { budget_limit: number; time_period: string | null; spend: number | null; budget_reset_at: string | null }> = {};
  await Promise.all(Object.keys(config.router_settings.provider_budget_config ?? {}).map(async (provider) => {
    const budget = providerBudget(config, provider);
    if (!budget) return;
    // The spend its limiter counts (calls settled so far, in the window open now); null when the limiter cannot be asked.
    const spend = await limiterSpend(c.env, 'global', PROVIDER_PREFIX + provider).catch(() => undefined);
    const resetAt = budget.duration ? nextBudgetReset(budget.duration, new Date(), timeZone) : undefined;
    providers[provider] = { budget_limit: budget.maxBudget, time_period: budget.duration, spend: spend ?? null, budget_reset_at: resetAt ? resetAt.toISOString() : null };
  }));
  return c.json({ providers });
});

describeRoute({ method: 'get', path: '/global/spend/models', summary: 'The models with the most spend (`?limit=`, 5 by default)', tag: 'spend', query: topModelsQuery });
spendRoutes.get('/global/spend/models', async (c) => {
  requireAdminReader(c, 'view global spend reports');
  const q = parseQuery(c, topModelsQuery);
  const { rows } = await c.get('db')().pool.query(
    'SELECT model, SUM(spend)::float8 AS total_spend FROM "LiteLLM_SpendLogs" GROUP BY model ORDER BY total_spend DESC, model LIMIT $1', [q.limit ?? 5]);
  return c.json(rows);
});
