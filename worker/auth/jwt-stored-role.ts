/**
 * A JWT caller's user role, given the role its stored user has now: one rule for the admin API
 * (admin-worker/lib/auth.ts) and the gateway's admin_only_routes (admin-only-routes.ts), so a user an admin demotes
 * to a viewer is one on both at once, even while this isolate still remembers the token's synced role
 * (sync_user_role_and_teams re-reads the user only every few minutes: jwt-role-sync.ts).
 */
import type { Pool } from '@neondatabase/serverless';
import type { LitellmUserRole } from '../config/jwt-schema.ts';

/**
 * A JWT's role given its stored user's: a user stored as a viewer stays one whatever its token's role (else a
 * viewer's token could write through team_allowed_routes or personal_key_generation, or pass admin_only_routes).
 * Only tightens: a token that is a proxy admin (or its viewer) becomes proxy_admin_viewer, any other
 * internal_user_viewer, so a stored proxy_admin_viewer never widens an internal user's reads. Other stored roles
 * (or none) leave the token's role.
 */
export function jwtRole(role: LitellmUserRole, stored: string | null | undefined): LitellmUserRole {
  if (stored !== 'proxy_admin_viewer' && stored !== 'internal_user_viewer') return role;
  return role === 'proxy_admin' || role === 'proxy_admin_viewer' ? 'proxy_admin_viewer' : 'internal_user_viewer';
}

/**
 * Whether a JWT caller whose token gives it `role` (jwt_litellm_role_map) is a proxy admin now: only a
 * `proxy_admin` token can be, and then one query reads its stored user's role (jwtRole). `userId`: the user its call
 * is (its policy's); a token naming none is its token's role alone, as on the admin API.
 */
export async function isJwtProxyAdmin(pool: () => Pick<Pool, 'query'>, role: LitellmUserRole | undefined, userId: string | null): Promise<boolean> {
  if (role !== 'proxy_admin') return false;
  if (!userId) return true;
  const { rows } = await pool().query<{ user_role: string | null }>('SELECT user_role FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId]);
  return jwtRole(role, rows[0]?.user_role) === 'proxy_admin';
}
