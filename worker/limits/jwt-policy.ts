import type { Pool } from '@neondatabase/serverless';
import { MASTER_CREATOR, RESERVED_USER_ID_MESSAGE } from '../auth/delegation.ts';
import { DEFAULT_TEAM_ROUTES, jwtSubject } from '../auth/jwt-identity.ts';
import type { JwtAuthSettings } from '../config/jwt-schema.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { withAliasesResolved } from './jwt-aliases.ts';
import { type EntityPolicy, missingPolicy } from './policy.ts';
import type { Refusal } from './refusals.ts';
import { userSearchGrant } from '../search/user-grant.ts';

/**
 * The policy of the key a JWT's subject is admitted as (worker/auth/jwt-identity.ts): no limits of its own,
 * its team, user and organization those the token names, held to `team_allowed_routes`. What it names
 * must exist, as LiteLLM requires; `user_id_upsert` / `team_id_upsert` create a missing user or team
 * instead. A user id the gateway does not have is looked up, as in LiteLLM, as a user's `sso_user_id`, then by
 * the token's email (`user_email_jwt_field`, any case; refused when two users share it, and the user found bound to the
 * token's id as its `sso_user_id`): the user found is the caller's. Read again with every policy refresh of its limiter, so a team created after a refusal is
 * found within a minute. With JWT auth off, no such key exists.
 */
export async function jwtKeyPolicy(pool: Pick<Pool, 'query'>, config: TollgateConfig, id: string): Promise<EntityPolicy> {
  const general = config.general_settings;
  return general.enable_jwt_auth ? jwtSubjectPolicy(pool, general.litellm_jwtauth ?? {}, id) : missingPolicy('key', id);
}

/**
 * jwtKeyPolicy with JWT auth on, given its `litellm_jwtauth`: also what sync_user_role_and_teams reads first
 * (worker/auth/jwt-role-sync.ts), so a token its call's policy refuses writes nothing to the stored user.
 */
export async function jwtSubjectPolicy(pool: Pick<Pool, 'query'>, settings: JwtAuthSettings, id: string): Promise<EntityPolicy> {
  const named = jwtSubject(id);
  if (!named) return missingPolicy('key', id);
  // A team (organization) named by alias is the one that has it now (jwt-aliases.ts); none or several: refused.
  const subject = await withAliasesResolved(pool, named);
  if (!('userId' in subject)) return { ...missingPolicy('key', id), exists: true, keyName: 'JWT', alias: null, teamId: null, userId: named.userId, organizationId: null, refusal: subject };
  const policy: EntityPolicy = {
    ...missingPolicy('key', id), exists: true, keyName: 'JWT', alias: null,
    teamId: subject.teamId, userId: subject.userId, organizationId: subject.orgId,
    allowedRoutes: settings.team_allowed_routes ?? DEFAULT_TEAM_ROUTES,
  };
  // With user_allowed_email_domain, only a token with an email (of that domain: jwt-identity.ts) creates its user, as in LiteLLM.
  const users = settings.user_id_upsert === true && (settings.user_allowed_email_domain === undefined || !!subject.email);
  const found = await missingEntity(pool, subject, { teams: settings.team_id_upsert === true, users });
  if (typeof found === 'string') policy.userId = found;
  else if (found) policy.refusal = found;
  if (!policy.refusal && policy.teamId === null && policy.userId !== null) policy.metadata = await userSearchGrant(pool, policy.userId);
  return policy;
}

const exists = async (pool: Pick<Pool, 'query'>, sql: string, id: string) => (await pool.query(sql, [id])).rows.length > 0;

/** What the subject names that is missing (a refusal), or the id of the user it is when that is not its user id. */
async function missingEntity(pool: Pick<Pool, 'query'>, subject: NonNullable<ReturnType<typeof jwtSubject>>, upsert: { teams: boolean; users: boolean }): Promise<Refusal | string | undefined> {
  const { teamId, userId, orgId, email } = subject;
  if (orgId !== null && !await exists(pool, 'SELECT 1 FROM "LiteLLM_OrganizationTable" WHERE organization_id = $1', orgId)) {
    return { status: 404, type: 'not_found_error', param: 'organization_id', message: `Organization doesn't exist in db. Organization=${orgId}. Create organization via \`/organization/new\` call.` };
  }
  if (teamId !== null) {
    let team = (await pool.query<{ organization_id: string | null }>('SELECT organization_id FROM "LiteLLM_TeamTable" WHERE team_id = $1', [teamId])).rows[0];
    // Upserted only if it never existed: a team an admin deleted stays deleted.
    if (!team && upsert.teams && !await exists(pool, 'SELECT 1 FROM "LiteLLM_DeletedTeamTable" WHERE team_id = $1', teamId)) {
      await pool.query('INSERT INTO "LiteLLM_TeamTable" (team_id, organization_id) VALUES ($1, $2) ON CONFLICT (team_id) DO NOTHING', [teamId, orgId]);
      team = (await pool.query<{ organization_id: string | null }>('SELECT organization_id FROM "LiteLLM_TeamTable" WHERE team_id = $1', [teamId])).rows[0];
    }
    if (!team) return missingJwtEntity('team', teamId);
    // The team's organization holds its calls: a token cannot name another one to escape its limits.
    if (orgId !== null && team.organization_id !== null && team.organization_id !== orgId) {
      return { status: 403, type: 'auth_error', param: 'organization_id', message: `Authentication Error, the JWT names organization ${orgId}, but Team=${teamId} belongs to organization ${team.organization_id}.` };
    }
  }
  if (userId !== null) {
    const known = await knownUser(pool, userId, email ?? null);
    if (known !== undefined) return known === userId ? undefined : known;
    if (!upsert.users) return missingJwtEntity('user', userId);
    // The master key's created_by marker: a user with it would make its keys pass as the master key's (delegation.ts).
    if (userId === MASTER_CREATOR) return { status: 400, type: 'bad_request_error', param: 'user_id', message: RESERVED_USER_ID_MESSAGE };
    await pool.query('INSERT INTO "LiteLLM_UserTable" (user_id, user_role, user_email) VALUES ($1, \'internal_user\', $2) ON CONFLICT (user_id) DO NOTHING', [userId, email ?? null]);
  }
  return undefined;
}

/**
 * The stored user a JWT's user id (and email) names, as LiteLLM's user lookup finds it: by `user_id`, else
 * as a user's `sso_user_id`, else by `user_email` (any case). An email two users share names neither (a 401:
 * which one the token is cannot be told). The user an email finds gets the token's user id as its
 * `sso_user_id` when it has none, as LiteLLM binds it, so the token stays that user's whatever its email becomes.
 */
async function knownUser(pool: Pick<Pool, 'query'>, userId: string, email: string | null): Promise<string | Refusal | undefined> {
  // One after the other, so the usual case (the user id is known) is one lookup by the primary key.
  const first = async (sql: string, value: string) => (await pool.query<{ user_id: string }>(sql, [value])).rows[0]?.user_id;
  const found = await first('SELECT user_id FROM "LiteLLM_UserTable" WHERE user_id = $1', userId)
    ?? await first('SELECT user_id FROM "LiteLLM_UserTable" WHERE sso_user_id = $1 ORDER BY created_at LIMIT 1', userId);
  if (found !== undefined || email === null) return found;
  const matches = (await pool.query<{ user_id: string; sso_user_id: string | null }>(
    'SELECT user_id, sso_user_id FROM "LiteLLM_UserTable" WHERE lower(user_email) = lower($1) LIMIT 2', [email])).rows;
  if (matches.length > 1) {
    return { status: 401, type: 'auth_error', param: 'user_email', message: `Authentication Error, more than one user has the JWT's email, so it names none of them. 'user_id'=${userId}. Give each user its own email, or set the user's sso_user_id to the token's user id.` };
  }
  const match = matches[0];
  if (match?.sso_user_id === null) {
    // Only if still unbound; a concurrent bind of the same id (unique) leaves the first one standing.
    await pool.query('UPDATE "LiteLLM_UserTable" SET sso_user_id = $1 WHERE user_id = $2 AND sso_user_id IS NULL', [userId, match.user_id]).catch(() => undefined);
  }
  return match?.user_id;
}

/** LiteLLM's refusal of a JWT naming a team (404) or user (401) the gateway does not have. */
export function missingJwtEntity(kind: 'team' | 'user', id: string): Refusal {
  return kind === 'team'
    ? { status: 404, type: 'not_found_error', param: 'team_id', message: `Team doesn't exist in db. Team=${id}. Create team via \`/team/new\` call.` }
    : { status: 401, type: 'auth_error', param: 'user_id', message: `Authentication Error, User doesn't exist in db. 'user_id'=${id}. Create user via \`/user/new\` call, or set litellm_jwtauth.user_id_upsert.` };
}
