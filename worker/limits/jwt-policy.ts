import type { Pool } from '@neondatabase/serverless';
import { DEFAULT_TEAM_ROUTES, jwtSubject } from '../auth/jwt-identity.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { type EntityPolicy, missingPolicy } from './policy.ts';
import type { Refusal } from './refusals.ts';

/**
 * The policy of the key a JWT's subject is admitted as (worker/auth/jwt-identity.ts): no limits of its own,
 * its team, user and organization those the token names, held to `team_allowed_routes`. What it names
 * must exist, as LiteLLM requires; `user_id_upsert` / `team_id_upsert` create a missing user or team
 * instead. Read again with every policy refresh of its limiter, so a team created after a refusal is
 * found within a minute. With JWT auth off, no such key exists.
 */
export async function jwtKeyPolicy(pool: Pick<Pool, 'query'>, config: TollgateConfig, id: string): Promise<EntityPolicy> {
  const general = config.general_settings;
  const subject = general.enable_jwt_auth ? jwtSubject(id) : undefined;
  if (!subject) return missingPolicy('key', id);
  const settings = general.litellm_jwtauth ?? {};
  const policy: EntityPolicy = {
    ...missingPolicy('key', id), exists: true, keyName: 'JWT', alias: null,
    teamId: subject.teamId, userId: subject.userId, organizationId: subject.orgId,
    allowedRoutes: settings.team_allowed_routes ?? DEFAULT_TEAM_ROUTES,
  };
  const refusal = await missingEntity(pool, subject, { teams: settings.team_id_upsert === true, users: settings.user_id_upsert === true });
  if (refusal) policy.refusal = refusal;
  return policy;
}

const exists = async (pool: Pick<Pool, 'query'>, sql: string, id: string) => (await pool.query(sql, [id])).rows.length > 0;

async function missingEntity(pool: Pick<Pool, 'query'>, subject: NonNullable<ReturnType<typeof jwtSubject>>, upsert: { teams: boolean; users: boolean }): Promise<Refusal | undefined> {
  const { teamId, userId, orgId } = subject;
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
    if (upsert.users) {
      await pool.query('INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ($1, \'internal_user\') ON CONFLICT (user_id) DO NOTHING', [userId]);
    } else if (!await exists(pool, 'SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', userId)) {
      return missingJwtEntity('user', userId);
    }
  }
  return undefined;
}

/** LiteLLM's refusal of a JWT naming a team (404) or user (401) the gateway does not have. */
export function missingJwtEntity(kind: 'team' | 'user', id: string): Refusal {
  return kind === 'team'
    ? { status: 404, type: 'not_found_error', param: 'team_id', message: `Team doesn't exist in db. Team=${id}. Create team via \`/team/new\` call.` }
    : { status: 401, type: 'auth_error', param: 'user_id', message: `Authentication Error, User doesn't exist in db. 'user_id'=${id}. Create user via \`/user/new\` call, or set litellm_jwtauth.user_id_upsert.` };
}
