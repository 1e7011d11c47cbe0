/** GET /key/info, POST /v2/key/info, GET /key/list and GET /key/aliases. */
import { and, asc, count, countDistinct, desc, eq, ilike, inArray, isNotNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { callerUserId, isAdminReader } from '../../lib/auth.ts';
import { limiterWindowSpend } from '../../../worker/limits/client.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminContext } from '../../lib/context.ts';
import { containing } from '../../lib/sql-text.ts';
import { notFound, parseBody, parseQuery } from '../../lib/validation.ts';
import { adminTeamIds, forbidden, isTeamAdmin, loadTeams, mayReadKey } from './access.ts';
import { keyAliasesQuery, keyInfoQuery, keyInfoV2Schema, listKeysQuery } from './schemas.ts';
import { budgetsById, findKey, keyObject, keyObjectWithBudget, tokenOf } from './store.ts';

const notAllowed = () => forbidden('You are not allowed to access this key\'s info. Only proxy admins, the key itself, its user and its team\'s admins can.');

/** `{"key": <as passed>, "info": {row minus token, litellm_budget_table}}`; no `key` means the calling key. */
export async function keyInfo(c: AdminContext): Promise<Response> {
  const query = parseQuery(c, keyInfoQuery);
  // Without a key, the caller itself (by hash: LiteLLM answers with the hashed api_key there too).
  const passed = query.key ?? c.get('caller').token;
  const { db } = c.get('db')();
  const row = await findKey(db, await tokenOf(passed));
  if (!row) throw notFound('Key not found in database');
  if (!(await mayReadKey(c, db, row))) throw notAllowed();
  const info = await keyObjectWithBudget(db, row, false, await budgetClock(c));
  // LiteLLM's budget_limits_usage: each window's spend so far, as the key's limiter counts it (left out if it cannot be asked).
  if (row.budget_limits?.length) {
    const usage = await limiterWindowSpend(c.env, 'key', row.token).catch(() => undefined);
    if (usage) info.budget_limits_usage = usage;
  }
  return c.json({ key: passed, info });
}

/** `{"key": [as passed], "info": [rows]}`: the keys found, each of which the caller must be allowed to read. */
export async function keyInfoV2(c: AdminContext): Promise<Response> {
  const data = await parseBody(c, keyInfoV2Schema);
  const tokens = await Promise.all(data.keys.map(tokenOf));
  const { db } = c.get('db')();
  const found = await db.select().from(verificationTokens).where(inArray(verificationTokens.token, tokens));
  if (found.length === 0) throw notFound('No keys found');
  for (const row of found) if (!(await mayReadKey(c, db, row))) throw notAllowed();
  const order = new Map(tokens.map((t, i) => [t, i]));
  found.sort((a, b) => (order.get(a.token) ?? 0) - (order.get(b.token) ?? 0));
  const budgets = await budgetsById(db, found.map((r) => r.budget_id));
  const clock = await budgetClock(c);
  return c.json({ key: data.keys, info: found.map((r) => keyObject(r, budgets.get(r.budget_id ?? ''), { withToken: false, clock })) });
}

/**
 * Which keys a caller may list (undefined: any): proxy admins (and viewers)
 * any; a team admin their team's (`team_id`); any other caller only the keys
 * of its own user (plus, with include_team_keys, those of the teams it
 * administers), as LiteLLM scopes /key/list.
 */
async function listScope(c: AdminContext, q: { team_id?: string; user_id?: string; include_team_keys?: boolean }): Promise<SQL | undefined> {
  if (isAdminReader(c)) return undefined;
  const { db } = c.get('db')();
  const t = verificationTokens;
  const me = callerUserId(c);
  const team = q.team_id ? (await loadTeams(db, [q.team_id])).get(q.team_id) : undefined;
  if (team && isTeamAdmin(team, me)) return undefined;
  if (me === null) throw forbidden('Only proxy admins, team admins and keys with a user_id can list keys');
  if (q.user_id && q.user_id !== me) throw forbidden(`You can only list your own keys (user_id=${me})`);
  const teams = q.include_team_keys ? await adminTeamIds(db, me) : [];
  return teams.length ? or(eq(t.user_id, me), inArray(t.team_id, teams)) : eq(t.user_id, me);
}

export async function listKeys(c: AdminContext): Promise<Response> {
  const q = parseQuery(c, listKeysQuery);
  const { db } = c.get('db')();
  const t = verificationTokens;
  const filters: (SQL | undefined)[] = [];
  if (q.user_id) filters.push(eq(t.user_id, q.user_id));
  if (q.team_id) filters.push(eq(t.team_id, q.team_id));
  if (q.organization_id) filters.push(eq(t.organization_id, q.organization_id));
  if (q.key_hash) filters.push(eq(t.token, await tokenOf(q.key_hash)));
  if (q.key_alias) filters.push(eq(t.key_alias, q.key_alias));

  filters.push(await listScope(c, q));
  const where = and(...filters);
  const [{ total } = { total: 0 }] = await db.select({ total: count() }).from(t).where(where);
  const column = t[q.sort_by ?? 'created_at'];
  const direction = q.sort_order === 'asc' ? asc : desc;
  const rows = await db.select().from(t).where(where)
    .orderBy(direction(column), asc(t.token))
    .limit(q.size).offset((q.page - 1) * q.size);
  const budgets = q.return_full_object ? await budgetsById(db, rows.map((r) => r.budget_id)) : new Map();
  const clock = await budgetClock(c);
  return c.json({
    keys: q.return_full_object ? rows.map((r) => keyObject(r, budgets.get(r.budget_id ?? ''), { withToken: true, clock })) : rows.map((r) => r.token),
    total_count: total,
    current_page: q.page,
    total_pages: Math.ceil(total / q.size),
  });
}

/**
 * LiteLLM's `/key/aliases` (the admin UI's key filter): the distinct aliases
 * of the keys the caller may list (as /key/list), `search` matching any part
 * of one (case-insensitive), optionally of one team's keys, a page at a time
 * in alphabetical order.
 */
export async function keyAliases(c: AdminContext): Promise<Response> {
  const q = parseQuery(c, keyAliasesQuery);
  const { db } = c.get('db')();
  const t = verificationTokens;
  const filters: (SQL | undefined)[] = [isNotNull(t.key_alias), ne(t.key_alias, '')];
  if (q.team_id) filters.push(eq(t.team_id, q.team_id));
  if (q.search) filters.push(ilike(t.key_alias, containing(q.search)));
  filters.push(await listScope(c, q));
  const where = and(...filters);
  const [{ total } = { total: 0 }] = await db.select({ total: countDistinct(t.key_alias) }).from(t).where(where);
  // Alphabetical whatever the database's collation: case aside first.
  const rows = await db.selectDistinct({ alias: t.key_alias, folded: sql<string>`lower(${t.key_alias})` }).from(t).where(where)
    .orderBy(sql`lower(${t.key_alias})`, asc(t.key_alias)).limit(q.size).offset((q.page - 1) * q.size);
  return c.json({ aliases: rows.map((r) => r.alias), total_count: total, current_page: q.page, total_pages: Math.ceil(total / q.size) });
}
