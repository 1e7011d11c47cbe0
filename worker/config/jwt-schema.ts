/**
 * LiteLLM's JWT auth settings (`general_settings.litellm_jwtauth`, on with `enable_jwt_auth`): which claims name
 * the caller's team, user, organization and end user, which scope makes a proxy admin, and what a token may call
 * (worker/auth/jwt-identity.ts reads them; the provider's keys come from `JWT_PUBLIC_KEY_URL`).
 */
import { z } from 'zod';
import { bool, nonNegative, str, strList } from './fields.ts';
import { jwtIssuersSchema, oidcUserInfoFields } from './jwt-issuers-schema.ts';
import { compileGlob, MAX_PATTERN_CHARS } from '../auth/jwt-role-map.ts';

/** LiteLLM's RBAC roles (`RBAC_ROLES`): what a JWT's role maps to and what `role_permissions` restricts. */
export const rbacRole = z.enum(['proxy_admin', 'team', 'internal_user'], { error: 'expected one of proxy_admin, team, internal_user' });

/** `general_settings.role_permissions`: the models and routes each RBAC role may call, under `enforce_rbac`. */
export const rolePermissionsSchema = z.array(z.object({ role: rbacRole, models: strList.optional(), routes: strList.optional() }, { error: 'expected {role, models, routes}' }), { error: 'expected a list of {role, models, routes}' });

/** LiteLLM's user roles (`LitellmUserRoles`), what `jwt_litellm_role_map` maps a token's role to. */
export const LITELLM_USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'team', 'customer', 'org_admin'] as const;
const litellmUserRole = z.enum(LITELLM_USER_ROLES, { error: `expected one of ${LITELLM_USER_ROLES.join(', ')}` });
export type LitellmUserRole = typeof LITELLM_USER_ROLES[number];

/** A claim's name or dot path (`customer.id`). */
const claimPath = str.regex(/^[^.\s]+(\.[^.\s]+)*$/, 'expected a claim name or dot path (e.g. "email" or "customer.id"), with no spaces or empty parts');

export const jwtAuthSchema = z.object({
  /** The scope (in the token's `scope` claim) that makes its holder a proxy admin. */
  admin_jwt_scope: str.optional(),
  /** Claims (dot paths) naming the caller's team; `team_id_default`, then the first of `team_ids_jwt_field`'s list, when the first is absent. */
  team_id_jwt_field: str.optional(),
  team_ids_jwt_field: str.optional(),
  /** The team of tokens without the team claim (before the list claim, as in LiteLLM). */
  team_id_default: str.optional(),
  user_id_jwt_field: str.optional(),
  /**
   * The claim holding the user's email: an upserted user gets it as `user_email`; a user id the gateway does not
   * have is looked up by it; a token without the user claim is the user it names (as in LiteLLM).
   */
  user_email_jwt_field: claimPath.optional(),
  /**
   * The one email domain (`my-co.com`) a token's email may have: a token with another is refused (403) before
   * any user is looked up by it, and a token without an email creates no user (`user_id_upsert`).
   */
  user_allowed_email_domain: str.regex(/^[^@\s]+$/, 'expected an email domain such as "my-co.com" (no "@", no spaces)').optional(),
  org_id_jwt_field: str.optional(),
  /**
   * LiteLLM's alias claims: a token with no team (organization) id claim names its team (organization) by its
   * `team_alias` (`organization_alias`), resolved with each read of the token's policy (limits/jwt-aliases.ts).
   */
  team_alias_jwt_field: claimPath.optional(),
  org_alias_jwt_field: claimPath.optional(),
  /** The claim naming the end user (customer) of the token's calls, in place of the request's `user`. */
  end_user_id_jwt_field: claimPath.optional(),
  /** Create the user (team) a token names when it does not exist yet, instead of refusing the call. */
  user_id_upsert: bool.optional(),
  team_id_upsert: bool.optional(),
  /** Routes or LiteLLM route groups a token that is not an admin's may call (`openai_routes`, `info_routes` by default). */
  team_allowed_routes: strList.min(1, 'expected at least one route or route group (an empty list would allow every route)').optional(),
  /**
   * Role and scope based access (worker/auth/jwt-permissions.ts), LiteLLM's names: the claim holding the user's roles
   * and the roles that make a token an internal user; the claim holding its roles for `role_mappings` (a mapped
   * `proxy_admin` only picks that role's permissions: `admin_jwt_scope` makes an admin, or `jwt_litellm_role_map` an admin-API one); `enforce_rbac` refuses a token with no role and holds each role to
   * `general_settings.role_permissions`; `enforce_scope_based_access` holds a token to the models (and routes) its
   * scopes' `scope_mappings` grant; `enforce_team_based_model_access` refuses a token that names no team.
   */
  user_roles_jwt_field: claimPath.optional(),
  user_allowed_roles: strList.optional(),
  roles_jwt_field: claimPath.optional(),
  role_mappings: z.array(z.object({ role: str, internal_role: rbacRole }, { error: 'expected {role, internal_role}' }), { error: 'expected a list of {role, internal_role}' }).optional(),
  enforce_rbac: bool.optional(),
  scope_mappings: z.array(z.object({ scope: str, models: strList.optional(), routes: strList.optional() }, { error: 'expected {scope, models, routes}' }), { error: 'expected a list of {scope, models, routes}' }).optional(),
  enforce_scope_based_access: bool.optional(),
  enforce_team_based_model_access: bool.optional(),
  /**
   * LiteLLM's `jwt_litellm_role_map` (worker/auth/jwt-role-map.ts): the first entry whose `jwt_role` (an fnmatch
   * pattern: `*`, `?`, `[...]`) matches one of the token's `roles_jwt_field` roles gives its caller that user role
   * on the admin API, `proxy_admin` included (the operator's mapping, never the token's own word). As in LiteLLM,
   * only with `sync_user_role_and_teams` (the role is the synced user's) and for tokens of every issuer.
   */
  jwt_litellm_role_map: z.array(z.object({ jwt_role: str, litellm_role: litellmUserRole }, { error: 'expected {jwt_role, litellm_role}' }), { error: 'expected a list of {jwt_role, litellm_role}' }).optional(),
  /** Writes the mapped role and the `team_ids_jwt_field` teams to the token's stored user (worker/auth/jwt-role-sync.ts). */
  sync_user_role_and_teams: bool.optional(),
  /** LiteLLM reads role_permissions from general_settings: here it would be ignored, so it fails the config instead. */
  role_permissions: z.never({ error: 'belongs in general_settings.role_permissions (LiteLLM reads it there), not in litellm_jwtauth' }).optional(),
  /** Seconds the provider's keys are used before they are fetched again (600 by default). */
  public_key_ttl: nonNegative.optional(),
  /** Seconds of clock skew allowed on `exp` and `nbf` (0 by default). */
  leeway: nonNegative.optional(),
  /**
   * JWT → virtual key mapping: the claim (dot path) looked up in LiteLLM_JWTKeyMapping (worker/auth/jwt-key-mapping.ts).
   * `virtual_key_claim_field` is LiteLLM's current name, `jwt_client_id_field` its older one: either may be set (both
   * only with the same value); claimField() reads whichever is.
   */
  virtual_key_claim_field: claimPath.optional(),
  jwt_client_id_field: claimPath.optional(),
  /**
   * A token whose claim has no mapping: `fallback_team_mapping` (the default) goes on to the team/user mapping above,
   * `reject` refuses it (403); `auto_register` mints a key and its mapping on the client's first call (jwt-auto-register.ts).
   */
  unregistered_jwt_client_behavior: z.enum(['fallback_team_mapping', 'reject', 'auto_register'], {
    error: 'expected "fallback_team_mapping", "reject" or "auto_register"',
  }).optional(),
  /** LiteLLM's reuse of a key the token's user already owns under auto_register: not built (warned, cross-checks.ts); a fresh key is minted. */
  auto_register_map_existing_key: z.boolean().optional(),
  /**
   * Per-issuer settings (worker/auth/jwt-issuers.ts): a token whose `iss` is listed is verified only with that entry's
   * keys and audience, and its claim fields override the ones above for its tokens.
   */
  issuers: jwtIssuersSchema.optional(),
  ...oidcUserInfoFields,
}).superRefine((s, ctx) => {
  if (s.oidc_userinfo_enabled === true && s.oidc_userinfo_endpoint === undefined) {
    ctx.addIssue({ code: 'custom', path: ['oidc_userinfo_endpoint'], message: 'is required with oidc_userinfo_enabled: true (the provider\'s UserInfo URL)' });
  }
  // Two different claims would leave it to chance which one is looked up.
  if (s.virtual_key_claim_field !== undefined && s.jwt_client_id_field !== undefined && s.virtual_key_claim_field !== s.jwt_client_id_field) {
    ctx.addIssue({ code: 'custom', path: ['jwt_client_id_field'], message: `is the older name of virtual_key_claim_field, set here to another claim ("${s.jwt_client_id_field}" vs "${s.virtual_key_claim_field}"): set one of them` });
  }
  // LiteLLM reads the roles it maps from roles_jwt_field only: without it no entry could ever match.
  if (s.jwt_litellm_role_map?.length && s.roles_jwt_field === undefined) {
    ctx.addIssue({ code: 'custom', path: ['jwt_litellm_role_map'], message: 'has no effect without roles_jwt_field (the claim holding the roles it maps, as in LiteLLM): set it' });
  }
  // Compiled here as the gateway compiles them (jwt-role-map.ts): a reversed range would silently match nothing.
  s.jwt_litellm_role_map?.forEach((entry, i) => {
    const problem = entry.jwt_role.length > MAX_PATTERN_CHARS ? `is longer than ${MAX_PATTERN_CHARS} characters` : compileGlob(entry.jwt_role).problem;
    if (problem) ctx.addIssue({ code: 'custom', path: ['jwt_litellm_role_map', i, 'jwt_role'], message: problem });
  });
  // Without a claim no token is looked up, so "reject" would refuse nothing: fail rather than run open.
  if (s.unregistered_jwt_client_behavior !== undefined && claimField(s) === undefined) {
    ctx.addIssue({ code: 'custom', path: ['unregistered_jwt_client_behavior'], message: 'has no effect without virtual_key_claim_field (or its older name jwt_client_id_field): set the claim the mapping looks up, or remove this setting' });
  }
});

/** The claim JWT → virtual key mapping looks up (`virtual_key_claim_field`, or its older name `jwt_client_id_field`); undefined: mapping off. */
export function claimField(settings: { virtual_key_claim_field?: string | undefined; jwt_client_id_field?: string | undefined }): string | undefined {
  return settings.virtual_key_claim_field ?? settings.jwt_client_id_field;
}

export type JwtAuthSettings = z.infer<typeof jwtAuthSchema>;
