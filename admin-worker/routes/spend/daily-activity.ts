/**
 * LiteLLM's daily activity reports (`/user/daily/activity`, `/team/...`,
 * `/organization/...`, `/customer/...` (`/end_user/...`), `/tag/...`), the
 * admin UI's usage pages, from the daily rollups: a page of rollup rows,
 * newest day first, folded per day into metrics and breakdowns by model,
 * model group, provider, endpoint, key and entity, in LiteLLM's
 * SpendAnalyticsPaginatedResponse shape. Proxy admins and viewers see every
 * entity; another user's key sees its own user's activity, its own teams' and
 * its administered organizations'.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { isAdminReader, requireAdminReader } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { badRequest, parseQuery } from '../../lib/validation.ts';
import { isoDate, keyHash, outsideScope, readerScope, Where } from './query.ts';

export const dailyActivityRoutes = new Hono<AdminBindings>();

interface Entity {
  path: string[];
  table: string;
  column: string;
  /** The query parameter naming which entities (comma-separated for lists). */
  filter: string;
  /** The entity's own name for the `metadata` of its breakdown bucket, when it has one. */
  alias?: { table: string; id: string; name: string };
}

const ENTITIES: Entity[] = [
  { path: ['/user/daily/activity'], table: 'LiteLLM_DailyUserSpend', column: 'user_id', filter: 'user_id' },
  { path: ['/team/daily/activity'], table: 'LiteLLM_DailyTeamSpend', column: 'team_id', filter: 'team_ids', alias: { table: 'LiteLLM_TeamTable', id: 'team_id', name: 'team_alias' } },
  { path: ['/organization/daily/activity'], table: 'LiteLLM_DailyOrganizationSpend', column: 'organization_id', filter: 'organization_ids', alias: { table: 'LiteLLM_OrganizationTable', id: 'organization_id', name: 'organization_alias' } },
  { path: ['/customer/daily/activity', '/end_user/daily/activity'], table: 'LiteLLM_DailyEndUserSpend', column: 'end_user_id', filter: 'end_user_ids' },
  { path: ['/tag/daily/activity'], table: 'LiteLLM_DailyTagSpend', column: 'tag', filter: 'tags' },
];

const activityQuery = (filter: string) => z.object({
  start_date: isoDate.optional(),
  end_date: isoDate.optional(),
  model: z.string().min(1).optional(),
  api_key: z.string().min(1).optional().describe('a virtual key (sk-...) or its SHA-256 hash'),
  page: z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(1, 'must be at least 1').max(1_000_000, 'at most 1000000').optional(),
  page_size: z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(1, 'must be at least 1').max(1000, 'at most 1000').optional(),
  [filter]: z.string().min(1).optional(),
});

const METRIC_FIELDS = ['spend', 'prompt_tokens', 'completion_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'total_tokens', 'successful_requests', 'failed_requests', 'api_requests'] as const;
type Metrics = Record<(typeof METRIC_FIELDS)[number], number>;
const emptyMetrics = (): Metrics => Object.fromEntries(METRIC_FIELDS.map((f) => [f, 0])) as Metrics;

interface Row {
  entity: string;
  date: string;
  api_key: string;
  model: string;
  model_group: string | null;
  custom_llm_provider: string;
  endpoint: string;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  spend: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
}

function add(m: Metrics, r: Row): void {
  m.spend += Number(r.spend);
  m.prompt_tokens += Number(r.prompt_tokens);
  m.completion_tokens += Number(r.completion_tokens);
  m.total_tokens += Number(r.prompt_tokens) + Number(r.completion_tokens);
  m.cache_read_input_tokens += Number(r.cache_read_input_tokens);
  m.cache_creation_input_tokens += Number(r.cache_creation_input_tokens);
  m.api_requests += Number(r.api_requests);
  m.successful_requests += Number(r.successful_requests);
  m.failed_requests += Number(r.failed_requests);
}

type KeyMetadata = { key_alias: string | null; team_id: string | null; user_id: string | null; key_exists: boolean };
interface Bucket { metrics: Metrics; metadata: Record<string, unknown>; api_key_breakdown: Record<string, { metrics: Metrics; metadata: KeyMetadata }> }

/** What LiteLLM says of each key a page names: its alias, team and user (a deleted key's from its last copy). */
async function keyMetadata(c: AdminContext, keys: string[]): Promise<Map<string, KeyMetadata>> {
  const out = new Map<string, KeyMetadata>();
  if (!keys.length) return out;
  const { pool } = c.get('db')();
  const live = await pool.query<{ token: string; key_alias: string | null; team_id: string | null; user_id: string | null }>(
    'SELECT token, key_alias, team_id, user_id FROM "LiteLLM_VerificationToken" WHERE token = ANY($1::text[])', [keys]);
  for (const k of live.rows) out.set(k.token, { key_alias: k.key_alias, team_id: k.team_id, user_id: k.user_id, key_exists: true });
  const missing = keys.filter((k) => !out.has(k));
  if (missing.length) {
    const deleted = await pool.query<{ token: string; key_alias: string | null; team_id: string | null; user_id: string | null }>(
      'SELECT DISTINCT ON (token) token, key_alias, team_id, user_id FROM "LiteLLM_DeletedVerificationToken" WHERE token = ANY($1::text[]) ORDER BY token, deleted_at DESC', [missing]);
    for (const k of deleted.rows) out.set(k.token, { key_alias: k.key_alias, team_id: k.team_id, user_id: k.user_id, key_exists: false });
  }
  return out;
}

/** What a user that is no admin may see of each report: its own user, the teams it is a member of, the organizations it administers. */
const SCOPES: Record<string, { what: string; allowed(c: AdminContext, userId: string): Promise<string[]> }> = {
  user_id: { what: 'activity of your own user', allowed: async (_c, userId) => [userId] },
  team_id: { what: 'activity of your own teams', allowed: memberTeams },
  organization_id: { what: 'activity of the organizations you administer', allowed: adminOrganizations },
};

/** The organizations a user administers (LiteLLM_OrganizationMembership with user_role org_admin). */
async function adminOrganizations(c: AdminContext, userId: string): Promise<string[]> {
  const { rows } = await c.get('db')().pool.query<{ organization_id: string }>(
    `SELECT organization_id FROM "LiteLLM_OrganizationMembership" WHERE user_id = $1 AND user_role = 'org_admin'`, [userId]);
  return rows.map((r) => r.organization_id);
}

/** The teams a user is a member of (LiteLLM_TeamTable.members_with_roles). */
async function memberTeams(c: AdminContext, userId: string): Promise<string[]> {
  const { rows } = await c.get('db')().pool.query<{ team_id: string }>(
    'SELECT team_id FROM "LiteLLM_TeamTable" WHERE members_with_roles @> $1::jsonb', [JSON.stringify([{ user_id: userId }])]);
  return rows.map((r) => r.team_id);
}

async function entityAliases(c: AdminContext, entity: Entity, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!entity.alias || !ids.length) return out;
  const { table, id, name } = entity.alias;
  const { rows } = await c.get('db')().pool.query<{ id: string; alias: string | null }>(`SELECT ${id}::text AS id, ${name} AS alias FROM "${table}" WHERE ${id}::text = ANY($1::text[])`, [ids]);
  for (const r of rows) out.set(r.id, { [name]: r.alias });
  return out;
}

/** Rows an `/aggregated` report reads at most: its whole range at once, unpaged. */
const AGGREGATED_MAX_ROWS = 20_000;

/**
 * One report: a page of rollup rows (`page`, `page_size`), or with `aggregated` (LiteLLM's
 * `/daily/activity/aggregated`, which its newer usage pages call) every row of the range.
 */
async function dailyActivity(c: AdminContext, entity: Entity, aggregated = false): Promise<Response> {
  const q = parseQuery(c, activityQuery(entity.filter)) as Record<string, string | number | undefined>;
  if (!q.start_date || !q.end_date) throw badRequest('Please provide start_date and end_date');
  if (String(q.end_date) < String(q.start_date)) throw badRequest('end_date must not be before start_date', 'end_date');
  const page = aggregated ? 1 : Number(q.page ?? 1);
  const pageSize = aggregated ? AGGREGATED_MAX_ROWS : Number(q.page_size ?? 10);
  const where = new Where().add('date >= ?', q.start_date).add('date <= ?', q.end_date);
  const named = q[entity.filter];
  // Lists are comma-separated; a user id is one id, commas and all.
  let ids = typeof named === 'string' ? (entity.filter === 'user_id' ? [named] : named.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
  if (!isAdminReader(c)) {
    // An internal user's key: its own user's activity, and its own teams' (LiteLLM's scope for these reports).
    const scope = readerScope(c);
    const own = 'userId' in scope ? scope.userId : undefined;
    const scoped = SCOPES[entity.column];
    if (!own || !scoped) requireAdminReader(c, `view ${entity.path[0]}`);
    const allowed = await scoped!.allowed(c, own!);
    if (ids && ids.some((id) => !allowed.includes(id))) throw outsideScope(scoped!.what, entity.filter);
    ids ??= allowed;
  }
  if (ids) where.add(`"${entity.column}" = ANY(?::text[])`, ids);
  if (q.model) where.add('model = ?', q.model);
  if (q.api_key) where.add('api_key = ?', await keyHash(String(q.api_key)));
  const { pool } = c.get('db')();
  const counted = pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${entity.table}" ${where}`, where.args);
  // The whole range is read only once it is known to fit.
  if (aggregated) {
    const n = Number((await counted).rows[0]?.n ?? 0);
    if (n > AGGREGATED_MAX_ROWS) throw badRequest(`The range holds ${n} rollup rows, more than ${AGGREGATED_MAX_ROWS} at once: ask for fewer days, or page through ${entity.path[0]}`, 'start_date');
  }
  const [count, page_] = await Promise.all([
    counted,
    pool.query<Row>(`SELECT "${entity.column}" AS entity, date, api_key, model, model_group, custom_llm_provider, endpoint, prompt_tokens, completion_tokens,
        cache_read_input_tokens, cache_creation_input_tokens, spend, api_requests, successful_requests, failed_requests
      FROM "${entity.table}" ${where} ORDER BY date DESC, id ASC LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`, where.args),
  ]);
  const rows = page_.rows;
  const keys = await keyMetadata(c, [...new Set(rows.map((r) => r.api_key).filter(Boolean))]);
  const aliases = await entityAliases(c, entity, [...new Set(rows.map((r) => r.entity))]);
  const keyMeta = (k: string): KeyMetadata => keys.get(k) ?? { key_alias: null, team_id: null, user_id: null, key_exists: false };

  const days = new Map<string, { metrics: Metrics; breakdown: Record<string, Record<string, Bucket | { metrics: Metrics; metadata: KeyMetadata }>> }>();
  const totals = emptyMetrics();
  for (const r of rows) {
    add(totals, r);
    let day = days.get(r.date);
    if (!day) days.set(r.date, (day = { metrics: emptyMetrics(), breakdown: { models: {}, model_groups: {}, mcp_servers: {}, providers: {}, endpoints: {}, api_keys: {}, entities: {} } }));
    add(day.metrics, r);
    const into = (section: string, name: string, metadata: Record<string, unknown> = {}) => {
      const buckets = day!.breakdown[section] as Record<string, Bucket>;
      const bucket = (buckets[name] ??= { metrics: emptyMetrics(), metadata, api_key_breakdown: {} });
      add(bucket.metrics, r);
      const perKey = (bucket.api_key_breakdown[r.api_key] ??= { metrics: emptyMetrics(), metadata: keyMeta(r.api_key) });
      add(perKey.metrics, r);
    };
    if (r.model) into('models', r.model);
    if (r.model_group || r.model) into('model_groups', r.model_group || r.model);
    into('providers', r.custom_llm_provider || 'unknown');
    if (r.endpoint) into('endpoints', r.endpoint);
    into('entities', r.entity || 'Unassigned', aliases.get(r.entity) ?? {});
    const apiKeys = day.breakdown.api_keys as Record<string, { metrics: Metrics; metadata: KeyMetadata }>;
    const keyBucket = (apiKeys[r.api_key] ??= { metrics: emptyMetrics(), metadata: keyMeta(r.api_key) });
    add(keyBucket.metrics, r);
  }
  const total = Number(count.rows[0]?.n ?? 0);
  return c.json({
    results: [...days.entries()].map(([date, d]) => ({ date, metrics: d.metrics, breakdown: d.breakdown })),
    metadata: {
      total_spend: totals.spend, total_prompt_tokens: totals.prompt_tokens, total_completion_tokens: totals.completion_tokens,
      total_tokens: totals.total_tokens, total_api_requests: totals.api_requests, total_successful_requests: totals.successful_requests,
      total_failed_requests: totals.failed_requests, total_cache_read_input_tokens: totals.cache_read_input_tokens,
      total_cache_creation_input_tokens: totals.cache_creation_input_tokens,
      page, total_pages: aggregated ? 1 : Math.ceil(total / pageSize), has_more: !aggregated && page * pageSize < total,
    },
  });
}

for (const entity of ENTITIES) {
  describeRoute({ method: 'get', path: entity.path[0]!, summary: `Spend, tokens and requests per day from ${entity.table}, broken down by model, provider, key and ${entity.column} (LiteLLM's usage page); a page of rollup rows`, tag: 'spend', query: activityQuery(entity.filter) });
  describeRoute({ method: 'get', path: `${entity.path[0]!}/aggregated`, summary: `The same for the whole range at once (${AGGREGATED_MAX_ROWS} rollup rows at most)`, tag: 'spend', query: activityQuery(entity.filter) });
  for (const path of entity.path) {
    dailyActivityRoutes.get(path, (c) => dailyActivity(c, entity));
    dailyActivityRoutes.get(`${path}/aggregated`, (c) => dailyActivity(c, entity, true));
  }
}
