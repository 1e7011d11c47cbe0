/** `/team/info`, `/team/list` and `/v2/team/list`. */
import { and, asc, count, desc, eq, ilike, isNull, sql, type SQL } from 'drizzle-orm';
import { callerUserId, isAdminReader } from '../../lib/auth.ts';
import { Hono } from 'hono';
import { teams } from '../../../drizzle/schema/teams.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { containing } from '../../lib/sql-text.ts';
import { teamJson } from '../../lib/serialize.ts';
import { parseQuery } from '../../lib/validation.ts';
import { callerTeamId, forbidden, isTeamMember } from '../principals/access.ts';
import { membersInclude } from '../principals/sql.ts';
import { teamInfoQuery, teamListQuery, teamListV2Query } from './schemas.ts';
import { findTeam, keysByTeam, membershipsByTeam } from './store.ts';

export const teamReadRoutes = new Hono<AdminBindings>();
const TAG = 'team management';

/** LiteLLM's special organization_id filter: teams that belong to no organization. */
const DEFAULT_ORGANIZATION = 'default_organization';

describeRoute({ method: 'get', path: '/team/info', summary: 'A team with its keys and memberships', tag: TAG, query: teamInfoQuery });
teamReadRoutes.get('/team/info', async (c) => {
  const { team_id: teamId } = parseQuery(c, teamInfoQuery);
  const { db } = c.get('db')();
  const team = await findTeam(db, teamId);
  // Admins see every team; a key of the team, and the team's members, see their own (LiteLLM's validate_membership).
  if (!isAdminReader(c) && callerTeamId(c) !== teamId && !isTeamMember(c, team)) {
    throw forbidden(`User=${callerUserId(c)} not authorized to access this team=${teamId}`);
  }
  const clock = await budgetClock(c);
  const [keys, memberships] = await Promise.all([keysByTeam(db, [teamId], clock), membershipsByTeam(db, [teamId])]);
  return c.json({
    team_id: teamId,
    team_info: { ...teamJson(team, clock), team_member_budget_table: null },
    keys: keys.get(teamId) ?? [],
    team_memberships: memberships.get(teamId) ?? [],
  });
});

/** Teams of an organization, LiteLLM's `default_organization` meaning those of none. */
const inOrganization = (organizationId: string): SQL => (organizationId === DEFAULT_ORGANIZATION ? isNull(teams.organization_id) : eq(teams.organization_id, organizationId));

const SORT_COLUMNS = {
  team_alias: teams.team_alias, team_id: teams.team_id, created_at: teams.team_created_at, updated_at: teams.updated_at, spend: teams.team_spend, max_budget: teams.max_budget,
} as const;

describeRoute({ method: 'get', path: '/v2/team/list', summary: 'Teams a page at a time, filtered and sorted (the admin UI\'s list); a user\'s own teams for a non-admin', tag: TAG, query: teamListV2Query });
teamReadRoutes.get('/v2/team/list', async (c) => {
  const q = parseQuery(c, teamListV2Query);
  let userId = q.user_id;
  // Admins see every team; anyone else the teams it is a member of.
  if (!isAdminReader(c)) {
    const me = callerUserId(c);
    if (me === null || (userId && userId !== me)) throw forbidden(`Only admin users can query all teams/other teams. Your user role=${c.get('role')}`);
    userId = me;
  }
  const filters: SQL[] = [];
  if (q.status === 'deleted') filters.push(sql`false`);
  if (q.team_id) filters.push(eq(teams.team_id, q.team_id));
  if (q.team_alias) filters.push(ilike(teams.team_alias, containing(q.team_alias)));
  if (userId) filters.push(membersInclude(teams.members_with_roles, userId));
  if (q.organization_id) filters.push(inOrganization(q.organization_id));
  const where = and(...filters);
  const { db } = c.get('db')();
  const direction = q.sort_order === 'desc' ? desc : asc;
  const [[{ total } = { total: 0 }], rows] = await Promise.all([
    db.select({ total: count() }).from(teams).where(where),
    db.select().from(teams).where(where).orderBy(direction(SORT_COLUMNS[q.sort_by ?? 'team_alias']), asc(teams.team_id))
      .limit(q.page_size).offset((q.page - 1) * q.page_size),
  ]);
  const clock = await budgetClock(c);
  return c.json({ teams: rows.map((row) => teamJson(row, clock)), total, page: q.page, page_size: q.page_size, total_pages: Math.ceil(total / q.page_size) });
});

describeRoute({ method: 'get', path: '/team/list', summary: 'Teams, optionally those of a user or an organization', tag: TAG, query: teamListQuery });
teamReadRoutes.get('/team/list', async (c) => {
  const query = parseQuery(c, teamListQuery);
  // Anyone may list the teams they belong to; all teams, or another user's, are for admins.
  if (!isAdminReader(c) && (!query.user_id || query.user_id !== callerUserId(c))) {
    throw forbidden(`Only admin users can query all teams/other teams. Your user role=${c.get('role')}`);
  }
  const filters: SQL[] = [];
  if (query.user_id) filters.push(membersInclude(teams.members_with_roles, query.user_id));
  if (query.organization_id) filters.push(inOrganization(query.organization_id));
  const { db } = c.get('db')();
  const rows = await db.select().from(teams).where(and(...filters)).orderBy(asc(teams.team_alias), asc(teams.team_id));
  const ids = rows.map((r) => r.team_id);
  const clock = await budgetClock(c);
  const [keys, memberships] = await Promise.all([keysByTeam(db, ids, clock), membershipsByTeam(db, ids, query.user_id)]);
  return c.json(rows.map((row) => ({ ...teamJson(row, clock), keys: keys.get(row.team_id) ?? [], team_memberships: memberships.get(row.team_id) ?? [] })));
});
