/**
 * The usage reports LiteLLM's admin UI draws its charts from, over
 * LiteLLM_SpendLogs in LiteLLM's shapes: requests and tokens per day
 * (`/global/activity`, per model group `/global/activity/model`), spend per
 * provider, per day of the last 30 days, per end user and per tag, and the
 * end users seen. Proxy admins and viewers see every row; an internal user's
 * key sees its own user's rows where LiteLLM lets it (activity, provider,
 * logs), and is refused the rest.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { GatewayError } from '../../../worker/errors.ts';
import { requireAdminReader } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { badRequest, parseBody, parseQuery } from '../../lib/validation.ts';
import { DAY_SQL, dayRange, type DayRange, isoDate, keyHash, rangeOrLast30Days, readerScope, Where } from './query.ts';

export const activityRoutes = new Hono<AdminBindings>();

const rangeQuery = z.object({ start_date: isoDate.optional(), end_date: isoDate.optional() });
const logsQuery = z.object({ api_key: z.string().min(1).optional().describe('a virtual key (sk-...) or its SHA-256 hash') });
const tagsQuery = rangeQuery.extend({ tags: z.string().optional().describe('comma-separated tags; absent or "all-tags" for every tag') });
const endUsersBody = z.object({
  api_key: z.string().min(1).nullish(),
  startTime: z.string().min(1).nullish().describe('a date or date-time (ISO 8601)'),
  endTime: z.string().min(1).nullish(),
}).strict();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** LiteLLM labels the activity charts' days as `%b %d`: "Jan 02". */
const chartDay = (day: string) => `${MONTHS[Number(day.slice(5, 7)) - 1]} ${day.slice(8, 10)}`;

/** Both dates, as LiteLLM requires them on these reports. */
function requiredRange(c: AdminContext): DayRange {
  const q = parseQuery(c, rangeQuery);
  if (!q.start_date || !q.end_date) throw badRequest('Please provide start_date and end_date');
  return dayRange(q.start_date, q.end_date);
}

/** The rows a report over both dates may read: the range, and the caller's own user unless it sees every row. */
function rowsInRange(c: AdminContext, what: string): Where {
  const where = new Where().range('s."startTime"', requiredRange(c));
  const user = ownUser(c, what);
  return user ? where.add('s."user" = ?', user) : where;
}

/** undefined for proxy admins and viewers (every row); else the caller's own user, whose rows it may see. */
function ownUser(c: AdminContext, what: string): string | undefined {
  const scope = readerScope(c);
  if ('all' in scope) return undefined;
  if ('userId' in scope) return scope.userId;
  throw new GatewayError(`Only proxy admins, or keys of a user, can ${what}.`, { status: 403, type: 'auth_error' });
}

interface DayCount { day: string; api_requests: number; total_tokens: number }

describeRoute({ method: 'get', path: '/global/activity', summary: 'Requests and tokens per day (start_date and end_date required); an internal user sees its own', tag: 'spend', query: rangeQuery });
activityRoutes.get('/global/activity', async (c) => {
  const where = rowsInRange(c, 'view activity');
  const { rows } = await c.get('db')().pool.query<DayCount>(`
    SELECT ${DAY_SQL} AS day, COUNT(*)::int AS api_requests, COALESCE(SUM(s.total_tokens), 0)::float8 AS total_tokens
    FROM "LiteLLM_SpendLogs" s ${where} GROUP BY 1 ORDER BY 1`, where.args);
  return c.json({
    daily_data: rows.map((r) => ({ date: chartDay(r.day), api_requests: r.api_requests, total_tokens: r.total_tokens })),
    sum_api_requests: rows.reduce((n, r) => n + r.api_requests, 0),
    sum_total_tokens: rows.reduce((n, r) => n + r.total_tokens, 0),
  });
});

describeRoute({ method: 'get', path: '/global/activity/model', summary: 'Requests and tokens per day for the 10 busiest model groups (start_date and end_date required)', tag: 'spend', query: rangeQuery });
activityRoutes.get('/global/activity/model', async (c) => {
  const where = rowsInRange(c, 'view activity');
  const { rows } = await c.get('db')().pool.query<DayCount & { model_group: string | null }>(`
    SELECT s.model_group, ${DAY_SQL} AS day, COUNT(*)::int AS api_requests, COALESCE(SUM(s.total_tokens), 0)::float8 AS total_tokens
    FROM "LiteLLM_SpendLogs" s ${where} GROUP BY 1, 2 ORDER BY 2, 1`, where.args);
  const groups = new Map<string | null, { model: string | null; daily_data: unknown[]; sum_api_requests: number; sum_total_tokens: number }>();
  for (const r of rows) {
    let g = groups.get(r.model_group);
    if (!g) groups.set(r.model_group, (g = { model: r.model_group, daily_data: [], sum_api_requests: 0, sum_total_tokens: 0 }));
    g.daily_data.push({ model_group: r.model_group, date: chartDay(r.day), api_requests: r.api_requests, total_tokens: r.total_tokens });
    g.sum_api_requests += r.api_requests;
    g.sum_total_tokens += r.total_tokens;
  }
  return c.json([...groups.values()].sort((a, b) => b.sum_api_requests - a.sum_api_requests).slice(0, 10));
});

describeRoute({ method: 'get', path: '/global/activity/cache_hits', summary: 'Calls and completion tokens answered from the cache vs by a provider, per key alias, call type and model (start_date and end_date required); an internal user sees its own', tag: 'spend', query: rangeQuery });
activityRoutes.get('/global/activity/cache_hits', async (c) => {
  const where = rowsInRange(c, 'view activity');
  // LiteLLM's rows: a key by its alias ('Unnamed Key' without one), the call type and model, its calls and those the cache answered.
  const { rows } = await c.get('db')().pool.query(`
    SELECT COALESCE(vt.key_alias, 'Unnamed Key') AS api_key, s.call_type, s.model, COUNT(*)::int AS total_rows,
      COUNT(*) FILTER (WHERE s.cache_hit)::int AS cache_hit_true_rows,
      COALESCE(SUM(s.completion_tokens) FILTER (WHERE s.cache_hit), 0)::float8 AS cached_completion_tokens,
      COALESCE(SUM(s.completion_tokens) FILTER (WHERE NOT s.cache_hit), 0)::float8 AS generated_completion_tokens
    FROM "LiteLLM_SpendLogs" s LEFT JOIN "LiteLLM_VerificationToken" vt ON vt.token = s.api_key
    ${where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, where.args);
  return c.json(rows);
});

describeRoute({ method: 'get', path: '/global/spend/provider', summary: 'Spend per provider (start_date and end_date required); an internal user sees its own', tag: 'spend', query: rangeQuery });
activityRoutes.get('/global/spend/provider', async (c) => {
  const where = rowsInRange(c, 'view spend per provider');
  // As LiteLLM: calls that reached a deployment (refusals before one have no model_id).
  const { rows } = await c.get('db')().pool.query<{ provider: string; spend: number }>(`
    SELECT s.custom_llm_provider AS provider, SUM(s.spend)::float8 AS spend
    FROM "LiteLLM_SpendLogs" s ${where} AND length(s.model_id) > 0 AND length(s.custom_llm_provider) > 0
    GROUP BY 1 ORDER BY 2 DESC, 1`, where.args);
  return c.json(rows);
});

describeRoute({ method: 'get', path: '/global/spend/logs', summary: 'Spend per day over the last 30 days (optionally of one key); an internal user sees its own keys', tag: 'spend', query: logsQuery });
activityRoutes.get('/global/spend/logs', async (c) => {
  const q = parseQuery(c, logsQuery);
  const user = ownUser(c, 'view global spend');
  const where = new Where().range('s."startTime"', rangeOrLast30Days(undefined, undefined));
  if (q.api_key) where.add('s.api_key = ?', await keyHash(q.api_key));
  if (user) where.add('s."user" = ?', user);
  // LiteLLM's views: MonthlyGlobalSpend (date, spend), ...PerKey (+ api_key), ...PerUserPerKey (+ api_key, user).
  const columns = user ? ', s.api_key, s."user"' : q.api_key ? ', s.api_key' : '';
  const { rows } = await c.get('db')().pool.query(`
    SELECT ${DAY_SQL} AS date, SUM(s.spend)::float8 AS spend${columns}
    FROM "LiteLLM_SpendLogs" s ${where} GROUP BY 1${columns} ORDER BY 1${columns}`, where.args);
  return c.json(rows);
});

describeRoute({ method: 'post', path: '/global/spend/end_users', summary: 'The 100 end users with the most spend (body: api_key, startTime, endTime; the last 30 days by default)', tag: 'spend' });
activityRoutes.post('/global/spend/end_users', async (c) => {
  requireAdminReader(c, 'view spend per end user');
  const body = await parseBody(c, endUsersBody);
  const now = Date.now();
  const from = body.startTime ? new Date(body.startTime) : new Date(now - 30 * 86_400_000);
  const to = body.endTime ? new Date(body.endTime) : new Date(now);
  if (Number.isNaN(from.getTime())) throw badRequest('startTime is not a date', 'startTime');
  if (Number.isNaN(to.getTime())) throw badRequest('endTime is not a date', 'endTime');
  const where = new Where().add('s."startTime" >= ?', from).add('s."startTime" < ?', to);
  if (body.api_key) where.add('s.api_key = ?', await keyHash(body.api_key));
  const { rows } = await c.get('db')().pool.query(`
    SELECT s.end_user, COUNT(*)::int AS total_count, SUM(s.spend)::float8 AS total_spend
    FROM "LiteLLM_SpendLogs" s ${where} GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 100`, where.args);
  return c.json(rows);
});

describeRoute({ method: 'get', path: '/global/all_end_users', summary: 'Every end user seen in the spend logs', tag: 'spend' });
activityRoutes.get('/global/all_end_users', async (c) => {
  requireAdminReader(c, 'view end users');
  const { rows } = await c.get('db')().pool.query<{ end_user: string | null }>('SELECT DISTINCT end_user FROM "LiteLLM_SpendLogs" ORDER BY 1');
  return c.json({ end_users: rows.map((r) => r.end_user) });
});

describeRoute({ method: 'get', path: '/global/spend/all_tag_names', summary: 'Every request tag calls carried', tag: 'spend' });
activityRoutes.get('/global/spend/all_tag_names', async (c) => {
  requireAdminReader(c, 'view tag names');
  // From the daily tag rollups (every call's tags, with disable_spend_logs and past the spend logs' retention too), not a scan of the spend logs.
  const { rows } = await c.get('db')().pool.query<{ tag: string }>(`SELECT DISTINCT tag FROM "LiteLLM_DailyTagSpend" WHERE tag <> '' ORDER BY 1`);
  return c.json({ tag_names: rows.map((r) => r.tag) });
});

describeRoute({ method: 'get', path: '/global/spend/tags', summary: 'Spend and calls per request tag (start_date and end_date required; `tags` to pick some)', tag: 'spend', query: tagsQuery });
activityRoutes.get('/global/spend/tags', async (c) => {
  requireAdminReader(c, 'view spend per tag');
  const q = parseQuery(c, tagsQuery);
  if (!q.start_date || !q.end_date) throw badRequest('Please provide start_date and end_date');
  const where = new Where().range('s."startTime"', dayRange(q.start_date, q.end_date));
  const tags = q.tags?.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags?.length && !tags.includes('all-tags')) where.add('t.tag = ANY(?)', tags);
  const { rows } = await c.get('db')().pool.query<{ name: string; spend: number; log_count: number }>(`
    SELECT t.tag AS name, SUM(s.spend)::float8 AS spend, COUNT(*)::int AS log_count
    FROM "LiteLLM_SpendLogs" s CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.request_tags) = 'array' THEN s.request_tags ELSE '[]'::jsonb END) AS t(tag)
    ${where} GROUP BY 1 ORDER BY 2 DESC, 1`, where.args);
  // LiteLLM rounds each tag's spend to 4 places here.
  return c.json({ spend_per_tag: rows.map((r) => ({ name: r.name, spend: Math.round(r.spend * 1e4) / 1e4, log_count: r.log_count })) });
});
