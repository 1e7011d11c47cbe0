import type { JwtAuthSettings, LitellmUserRole } from '../config/jwt-schema.ts';
import { GatewayError } from '../errors.ts';
import { aliasOf, checkEmailDomain, claimAt, emailOf, idOf, scopes } from './jwt-claims.ts';
import type { Claims } from './jwt-verify.ts';
import { type JwtPermits, permitsOf, type RolePermissions, type TokenFacts, usesPermissions } from './jwt-permissions.ts';
import { namesNoOne } from './jwt-refusals.ts';
import { mappedUserRole } from './jwt-role-map.ts';
import { jwtSubject, jwtToken } from './jwt-subject.ts';

/**
 * Who a verified JWT says is calling (LiteLLM's JWT auth): a proxy admin (the admin scope), or a team, a user
 * and their organization and end user, read from the claims the config names. A caller that is not an admin
 * is admitted as a key the gateway makes up for that identity, `jwt:` and the identity (jwtKeyPolicy in
 * worker/limits/jwt-policy.ts gives it its policy): it has no limits of its own, so its team's, user's,
 * organization's and end user's hold its calls, through the same limiters and spend logs as a virtual key's.
 * A client cannot present such a token: a key it sends is hashed to hex.
 */

export interface JwtCaller {
  admin: boolean;
  /** The made-up key a non-admin caller is admitted as (see above). */
  token: string;
  /**
   * The end user (customer) the token names (`end_user_id_jwt_field`): the end user of every call it makes, in
   * place of the request's `user`, so a client cannot move its calls off the end user's budget. Not part of the key.
   */
  endUser?: string;
  /**
   * When the team comes from `team_ids_jwt_field`'s list of several: the made-up key of each listed team, in the
   * list's order (`token` is the first's). A model call takes the first whose team exists and may call the model
   * (worker/auth/jwt-teams.ts), as LiteLLM does.
   */
  alternatives?: string[];
  /** What its role and scopes permit (jwt-permissions.ts): only with LiteLLM's JWT permission settings. */
  permits?: JwtPermits;
  /** `token` is the hash of the virtual key the token's client claim is mapped to (jwt-key-mapping.ts): the call is that key's. */
  mapped?: true;
  /** The user role `jwt_litellm_role_map` gives a user's token under `sync_user_role_and_teams` (jwt-role-map.ts): its role on the admin API. */
  userRole?: LitellmUserRole;
}

/** The most teams of a token's list tried for a model call. */
const MAX_LISTED_TEAMS = 16;

export const DEFAULT_ADMIN_SCOPE = 'litellm_proxy_admin';
export const DEFAULT_TEAM_ROUTES = ['openai_routes', 'info_routes'];

/**
 * The caller a token's claims name (a 401 when they name no one the settings map), with what its role and scopes
 * permit when the settings use LiteLLM's JWT permissions (jwt-permissions.ts; a 403 when they refuse the token).
 */
export function callerOf(claims: Claims, settings: JwtAuthSettings, rolePermissions?: RolePermissions): JwtCaller {
  const caller = permittedCaller(claims, settings, rolePermissions);
  // As in LiteLLM, the map is read only by sync_user_role_and_teams, for a token naming a user: the role is that
  // user's once synced (jwt-role-sync.ts). One property read when the map is unset; an admin (by its scope) needs none.
  if (!settings.jwt_litellm_role_map || !settings.sync_user_role_and_teams || caller.admin || !jwtSubject(caller.token)?.userId) return caller;
  const role = mappedUserRole(claims, settings);
  if (role) caller.userRole = role;
  return caller;
}

function permittedCaller(claims: Claims, settings: JwtAuthSettings, rolePermissions?: RolePermissions): JwtCaller {
  if (!usesPermissions(settings)) return namedCaller(claims, settings);
  const scoped = scopes(claims);
  const teams = claimAt(claims, settings.team_ids_jwt_field);
  const facts: TokenFacts = {
    claim: (path) => claimAt(claims, path), scopes: scoped,
    fixedTeam: idOf(claimAt(claims, settings.team_id_jwt_field)) ?? settings.team_id_default ?? null,
    userClaim: idOf(claimAt(claims, settings.user_id_jwt_field)), email: emailOf(claimAt(claims, settings.user_email_jwt_field)),
  };
  // As in LiteLLM, only the admin scope makes an admin: a role_mappings proxy_admin only picks its role_permissions.
  const admin = scoped.includes(settings.admin_jwt_scope ?? DEFAULT_ADMIN_SCOPE);
  // The alias names the team the token is admitted as, so it counts where a team is needed; never for the role
  // (LiteLLM's get_rbac_role reads get_team_id, which reads no alias).
  const team = admin ? null : facts.fixedTeam ?? aliasOf(claims, settings.team_alias_jwt_field, 'team_alias_jwt_field')
    ?? (Array.isArray(teams) ? teams.map(idOf).find((t) => t !== null) ?? null : idOf(teams));
  // What refuses the token itself comes before the permits' refusals of a token naming no one, which a token
  // mapped to a key is let past (jwt-key-mapping.ts): a mapped token must not skip the email domain check.
  if (!admin) checkEmailDomain(facts.email, settings);
  const permits = permitsOf(facts, settings, rolePermissions, admin, team);
  const caller: JwtCaller = admin ? { admin: true, token: '' } : namedCaller(claims, settings);
  if (permits) caller.permits = permits;
  return caller;
}

function namedCaller(claims: Claims, settings: JwtAuthSettings): JwtCaller {
  if (scopes(claims).includes(settings.admin_jwt_scope ?? DEFAULT_ADMIN_SCOPE)) return { admin: true, token: '' };
  const teams = claimAt(claims, settings.team_ids_jwt_field);
  // As in LiteLLM: the team claim, else the team's alias claim, else team_id_default, and only then the list of teams;
  // but a token with team_id_default and a non-empty list claim keeps the default over its alias (LiteLLM's get_team_id).
  const claimed = idOf(claimAt(claims, settings.team_id_jwt_field));
  const inList = [...new Set(Array.isArray(teams) ? teams.map(idOf).filter((t) => t !== null) : [idOf(teams)].filter((t) => t !== null))];
  const defaulted = settings.team_id_default ?? null;
  const aliased = claimed === null ? aliasOf(claims, settings.team_alias_jwt_field, 'team_alias_jwt_field') : null;
  const teamAlias = aliased !== null && (defaulted === null || inList.length === 0) ? aliased : null;
  const fixed = claimed ?? (teamAlias === null ? defaulted : null);
  const listed = fixed !== null || teamAlias !== null ? [] : inList.slice(0, MAX_LISTED_TEAMS);
  const teamId = fixed ?? listed[0] ?? null;
  const email = emailOf(claimAt(claims, settings.user_email_jwt_field));
  checkEmailDomain(email, settings);
  // As in LiteLLM, a token without the user claim is the user its email names.
  const userId = idOf(claimAt(claims, settings.user_id_jwt_field)) ?? email;
  if (teamId === null && teamAlias === null && userId === null) {
    throw namesNoOne(new GatewayError('Authentication Error, JWT names no team, user or admin scope this gateway maps (litellm_jwtauth: team_id_jwt_field, team_alias_jwt_field, team_ids_jwt_field, team_id_default, user_id_jwt_field, user_email_jwt_field, admin_jwt_scope)', {
      status: 401, type: 'auth_error', param: 'key',
    }));
  }
  const orgId = idOf(claimAt(claims, settings.org_id_jwt_field));
  const orgAlias = orgId === null ? aliasOf(claims, settings.org_alias_jwt_field, 'org_alias_jwt_field') : null;
  const token = jwtToken({ teamId, userId, orgId, email, teamAlias, orgAlias });
  const caller: JwtCaller = { admin: false, token };
  // Bounded as a request's `user` is (call-context.ts endUserOf).
  const endUser = settings.end_user_id_jwt_field === undefined ? null : idOf(claimAt(claims, settings.end_user_id_jwt_field))?.slice(0, 256);
  if (endUser) caller.endUser = endUser;
  if (listed.length > 1) caller.alternatives = listed.map((team) => jwtToken({ teamId: team, userId, orgId, email, orgAlias }));
  return caller;
}
