import type { JwtAuthSettings } from '../config/jwt-schema.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { listAllows } from '../models/access.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { namesNoOne } from './jwt-refusals.ts';
import { routeAllowed } from './routes.ts';

/**
 * LiteLLM's JWT permissions (`handle_jwt.py`'s RBAC and scope checks), worked out once per verified token
 * (jwt-identity.ts remembers the result with the caller) and checked per request by a property read:
 * - the token's RBAC role, as LiteLLM's `get_rbac_role` orders it: proxy admin (the admin scope, the only thing
 *   that makes an admin), team (the team claim or `team_id_default`, never the alias claim), internal user (the user claim, or a
 *   `user_roles_jwt_field` role in `user_allowed_roles`), else the first `role_mappings` entry matching one of its
 *   roles (which only picks the `role_permissions` entry: a mapped `proxy_admin` is no admin);
 * - `enforce_rbac`: a token with no role is refused (403), and its role is held to `general_settings.role_permissions`;
 * - `enforce_scope_based_access` with `scope_mappings`: the token may call the models its scopes' mappings list
 *   (and, when any mapping lists routes, only the routes they list);
 * - `enforce_team_based_model_access`: a token naming no team is refused (403).
 */

export type RbacRole = 'proxy_admin' | 'team' | 'internal_user';
export type RolePermissions = NonNullable<TollgateConfig['general_settings']['role_permissions']>;

/** What a token may call beyond what its team, user and routes allow; absent lists restrict nothing. */
export interface JwtPermits {
  role: RbacRole | null;
  /** `role_permissions` of the token's role, under `enforce_rbac`. */
  roleModels?: readonly string[];
  roleRoutes?: readonly string[];
  /** What the token's scopes' `scope_mappings` grant, under `enforce_scope_based_access`. */
  scopeModels?: readonly string[];
  scopeRoutes?: readonly string[];
}

/** What the token's claims say, as jwt-identity.ts reads them. */
export interface TokenFacts {
  claim: (path: string | undefined) => unknown;
  scopes: readonly string[];
  /**
   * The team claim's value, else `team_id_default`: LiteLLM's `get_team_id`, which reads neither the list claim nor
   * `team_alias_jwt_field`, so neither makes a token's role `team` (the alias counts only as the team it is admitted as).
   */
  fixedTeam: string | null;
  /** The user claim's value (`user_id_jwt_field`; not the email: LiteLLM's `get_user_id`). */
  userClaim: string | null;
  /** The email claim's value (`user_email_jwt_field`): a user id too, when the token has no user claim. */
  email: string | null;
}

/** Whether the settings use any permission setting: without one, a token's caller is worked out as before, at no cost. */
export function usesPermissions(settings: JwtAuthSettings): boolean {
  return !!(settings.role_mappings?.length || settings.enforce_rbac || settings.enforce_scope_based_access || settings.enforce_team_based_model_access);
}

/** A roles claim: a list of strings, or one string (one role). */
function rolesAt(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : [];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The internal role of the first `role_mappings` entry whose role the token's `roles_jwt_field` holds (LiteLLM's order). */
function mappedRole(facts: TokenFacts, settings: JwtAuthSettings): RbacRole | null {
  if (!settings.role_mappings?.length || !settings.roles_jwt_field) return null;
  const roles = new Set(rolesAt(facts.claim(settings.roles_jwt_field)));
  return settings.role_mappings.find((m) => roles.has(m.role))?.internal_role ?? null;
}

/** The token's RBAC role (see above); `admin` is whether it holds the admin scope (`admin_jwt_scope`). */
export function rbacRoleOf(facts: TokenFacts, settings: JwtAuthSettings, admin: boolean): RbacRole | null {
  if (admin) return 'proxy_admin';
  if (facts.fixedTeam !== null) return 'team';
  if (facts.userClaim !== null) return 'internal_user';
  const allowed = settings.user_allowed_roles;
  if (allowed?.length && settings.user_roles_jwt_field && rolesAt(facts.claim(settings.user_roles_jwt_field)).some((r) => allowed.includes(r))) return 'internal_user';
  return mappedRole(facts, settings);
}

const forbidden = (message: string, param: string | null = null) => new GatewayError(message, { status: 403, type: 'auth_error', param });

/**
 * The token's permits (undefined when nothing restricts it), refusing it (403, LiteLLM's words) under `enforce_rbac`
 * when it has no role and under `enforce_team_based_model_access` when it names no team (`team` is the team it is
 * admitted as, from any of the team settings; null for an admin, who needs none). `admin`: the admin scope only.
 * These refusals say only that the token names no one, so they are marked (jwt-refusals.ts): a token the JWT → key
 * mapping maps to a key needs to name no one.
 */
export function permitsOf(facts: TokenFacts, settings: JwtAuthSettings, rolePermissions: RolePermissions | undefined, admin: boolean, team: string | null | undefined): JwtPermits | undefined {
  const permits: JwtPermits = { role: rbacRoleOf(facts, settings, admin) };
  let restricted = false;
  if (settings.enforce_rbac === true) {
    if (permits.role === null) throw namesNoOne(forbidden('Unmatched token passed in. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.'));
    const granted = rolePermissions?.find((p) => p.role === permits.role);
    if (granted?.models) permits.roleModels = granted.models;
    if (granted?.routes) permits.roleRoutes = granted.routes;
    restricted = !!granted && (!!granted.models || !!granted.routes);
  }
  // LiteLLM's validate_object_id: a role is not enough, the token must name someone its calls are billed to.
  if (settings.enforce_rbac === true && !admin && team === null && facts.userClaim === null && facts.email === null) {
    throw namesNoOne(forbidden('No user or team id found in token. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.'));
  }
  if (!admin && team === null && settings.enforce_team_based_model_access === true) {
    throw namesNoOne(forbidden('No teams found in token. `enforce_team_based_model_access` is set to True. Token must belong to a team.', 'team'));
  }
  const mappings = settings.scope_mappings;
  if (settings.enforce_scope_based_access === true && mappings?.length) {
    const matched = mappings.filter((m) => facts.scopes.includes(m.scope));
    permits.scopeModels = matched.flatMap((m) => m.models ?? []);
    // Routes restrict only when some mapping lists routes (LiteLLM's mappings restrict models alone).
    if (mappings.some((m) => m.routes)) permits.scopeRoutes = matched.flatMap((m) => m.routes ?? []);
    restricted = true;
  }
  return restricted ? permits : undefined;
}

/** A list grants `name`: listed (a model group, an access group, `*` or a `prefix*` wildcard); an empty list grants none. */
const modelGranted = (allowed: readonly string[], group: string, catalog: ModelCatalog) => allowed.length > 0 && listAllows(allowed, group, catalog);
const routeGranted = (allowed: readonly string[], path: string) => allowed.length > 0 && routeAllowed(allowed, path);

/**
 * LiteLLM's generic client message for a model the caller may not call (`model_access_denied.py`): the allowed
 * models stay out of the answer, so a refused token learns nothing of what else the gateway serves.
 */
export function modelAccessDenied(group: string): GatewayError {
  return forbidden(`The requested model '${group}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`, 'model');
}

/** Whether its role's `role_permissions` and its scopes' `scope_mappings` grant a model call to `group`. */
export function jwtModelAllowed(permits: JwtPermits, group: string, catalog: ModelCatalog): boolean {
  if (permits.roleModels && !modelGranted(permits.roleModels, group, catalog)) return false;
  return !permits.scopeModels || modelGranted(permits.scopeModels, group, catalog);
}

/** Refuses (403) a model call its role's `role_permissions` or its scopes' `scope_mappings` do not grant. */
export function checkJwtModel(permits: JwtPermits, group: string, catalog: ModelCatalog): void {
  if (!jwtModelAllowed(permits, group, catalog)) throw modelAccessDenied(group);
}

/** Refuses (403) a route its role's `role_permissions` or its scopes' `scope_mappings` do not list. */
export function checkJwtRoute(permits: JwtPermits, path: string): void {
  if (permits.roleRoutes && !routeGranted(permits.roleRoutes, path)) {
    throw forbidden(`Role=${permits.role} not allowed to call route=${path}. Allowed routes=${JSON.stringify(permits.roleRoutes)}`);
  }
  if (permits.scopeRoutes && !routeGranted(permits.scopeRoutes, path)) {
    throw forbidden(`Scopes not allowed to call route=${path}. Allowed routes=${JSON.stringify(permits.scopeRoutes)}`);
  }
}
