import type { Pool } from '@neondatabase/serverless';
import { type JwtSubject, jwtSubject } from '../auth/jwt-identity.ts';
import type { Refusal } from './refusals.ts';

/**
 * LiteLLM's `team_alias_jwt_field` / `org_alias_jwt_field`: a JWT naming its team (organization) by alias is the
 * team with that `team_alias` (organization with that `organization_alias`). Resolved with every read of the
 * token's policy (limits/jwt-policy.ts), never remembered apart from it, so a team renamed stops answering to its
 * old alias when its JWT keys' policies are next read, as a deleted team stops admitting them; until then
 * admission (admission-answer.ts, teamAliasGone) compares the alias with the team's own, which a rename refreshes at once.
 */

/** LiteLLM's refusals (get_team_object_by_alias, get_org_object_by_alias): no such alias 404, several 400. */
export function aliasRefusal(kind: 'team' | 'org', alias: string, count: number): Refusal {
  if (kind === 'team') {
    return count === 0
      ? { status: 404, type: 'not_found_error', param: 'team_alias', message: `Team with alias '${alias}' doesn't exist in db. Create team via \`/team/new\` call.` }
      : { status: 400, type: 'bad_request_error', param: 'team_alias', message: `Multiple teams found with alias '${alias}'. Please use team_id_jwt_field instead or ensure team aliases are unique.` };
  }
  return count === 0
    ? { status: 404, type: 'not_found_error', param: 'organization_alias', message: `Organization with alias '${alias}' doesn't exist in db. Create organization via \`/organization/new\` call.` }
    : { status: 400, type: 'bad_request_error', param: 'organization_alias', message: `Multiple organizations found with alias '${alias}'. Please use org_id_jwt_field instead or ensure organization aliases are unique.` };
}

/**
 * The subject with the team and organization its aliases name put in as ids, or the refusal when an alias names
 * none or several. A subject without aliases is returned as it is, with no query.
 */
export async function withAliasesResolved(pool: Pick<Pool, 'query'>, subject: JwtSubject): Promise<JwtSubject | Refusal> {
  const { teamAlias, orgAlias } = subject;
  if (!teamAlias && !orgAlias) return subject;
  // Two rows are enough to tell one from several.
  const [teams, orgs] = await Promise.all([
    teamAlias ? pool.query<{ id: string }>('SELECT team_id AS id FROM "LiteLLM_TeamTable" WHERE team_alias = $1 LIMIT 2', [teamAlias]) : undefined,
    orgAlias ? pool.query<{ id: string }>('SELECT organization_id AS id FROM "LiteLLM_OrganizationTable" WHERE organization_alias = $1 LIMIT 2', [orgAlias]) : undefined,
  ]);
  // The team first, as LiteLLM resolves it first.
  if (teamAlias && teams!.rows.length !== 1) return aliasRefusal('team', teamAlias, teams!.rows.length);
  if (orgAlias && orgs!.rows.length !== 1) return aliasRefusal('org', orgAlias, orgs!.rows.length);
  return { ...subject, teamId: teams?.rows[0]!.id ?? subject.teamId, orgId: orgs?.rows[0]!.id ?? subject.orgId };
}

/**
 * The refusal of a JWT key admitted as the team its alias named, once that team no longer has the alias (renamed:
 * its limiter's policy is refreshed by the rename, the key's own only within a minute); undefined otherwise.
 */
export function teamAliasGone(token: string, team: { alias: string | null }): Refusal | undefined {
  const alias = jwtSubject(token)?.teamAlias;
  return alias && team.alias !== alias ? aliasRefusal('team', alias, 0) : undefined;
}
