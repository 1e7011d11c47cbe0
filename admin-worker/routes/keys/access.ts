/**
 * Who may do what to a key, following LiteLLM's rules: proxy admins
 * everything; a team admin (the calling key's user is in the team's `admins`
 * or an `admin` in `members_with_roles`) the keys of that team; a key may read
 * itself, and a user the keys that carry their user_id.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { jwtKeyMappings } from '../../../drizzle/schema/jwt-key-mappings.ts';
import type { KeyRow } from '../../../drizzle/schema/keys.ts';
import { users } from '../../../drizzle/schema/principals.ts';
import { teams, type TeamRow } from '../../../drizzle/schema/teams.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { callerUserId, isAdminReader, isProxyAdmin } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import type { Runner } from './store.ts';

/** `litellm-changed-by`: who a change is made on behalf of (LiteLLM's header), for the audit log. */
export function changedBy(c: AdminContext): string | null {
  const value = c.req.header('litellm-changed-by')?.trim();
  return value ? value.slice(0, 200) : null;
}

/**
 * What goes in created_by / updated_by: LiteLLM writes the caller's user_id, `default_user_id` for the master key;
 * a delegated key (lib/auth.ts) its creator's, so that nothing it makes acts as its user.
 */
export function actor(c: AdminContext): string | null {
  return c.get('caller').kind === 'master' ? 'default_user_id' : callerUserId(c) ?? c.get('delegatedBy') ?? null;
}

export function isTeamAdmin(team: Pick<TeamRow, 'admins' | 'members_with_roles'>, userId: string | null): boolean {
  if (!userId) return false;
  if (team.admins.includes(userId)) return true;
  return team.members_with_roles.some((m) => m.role === 'admin' && m.user_id === userId);
}

export async function loadTeams(db: Runner, ids: (string | null | undefined)[]): Promise<Map<string, TeamRow>> {
  const wanted = [...new Set(ids.filter((id): id is string => !!id))];
  if (wanted.length === 0) return new Map();
  const rows = wanted.length === 1
    ? await db.select().from(teams).where(eq(teams.team_id, wanted[0] as string))
    : await db.select().from(teams).where(inArray(teams.team_id, wanted));
  return new Map(rows.map((t) => [t.team_id, t]));
}

export function forbidden(message: string): GatewayError {
  return new GatewayError(message, { status: 403, type: 'auth_error' });
}

/**
 * Refuses a change to `teamIds` (the key's team before and after) unless the
 * caller is a proxy admin or an admin of every one of those teams. A key
 * without a team belongs to no team admin, so only proxy admins manage it.
 */
export async function requireKeyManager(c: AdminContext, db: Runner, teamIds: (string | null | undefined)[], what: string): Promise<void> {
  if (isProxyAdmin(c)) return;
  const userId = callerUserId(c);
  const ids = [...new Set(teamIds)];
  const found = await loadTeams(db, ids);
  const ok = userId !== null && ids.length > 0 && ids.every((id) => {
    const team = id ? found.get(id) : undefined;
    return team !== undefined && isTeamAdmin(team, userId);
  });
  if (!ok) {
    throw forbidden(`Only proxy admins, or admins of the key's team, can ${what}. Your role=${c.get('role')}`);
  }
}

/** Any member of the team: in `members` (LiteLLM's legacy list), `admins` or `members_with_roles`. */
export function isTeamMember(team: Pick<TeamRow, 'members' | 'admins' | 'members_with_roles'>, userId: string): boolean {
  return team.members.includes(userId) || team.admins.includes(userId) || team.members_with_roles.some((m) => m.user_id === userId);
}

/** A user's role as LiteLLM_UserTable has it; null when the user has no row (or the row no role). */
export async function storedRole(db: Runner, userId: string): Promise<string | null> {
  const [user] = await db.select({ role: users.user_role }).from(users).where(eq(users.user_id, userId)).limit(1);
  return user?.role ?? null;
}

/** Roles a team admin may not hand a key to: a key carries its user's role into the admin API. */
const PRIVILEGED_ROLES: ReadonlySet<string> = new Set(['proxy_admin', 'proxy_admin_viewer']);

/**
 * Whom a caller other than a proxy admin may give a key (its `user_id`): itself, or a member of the key's
 * team (whose admin it is, requireKeyManager) that has a user row; never a proxy admin or viewer. Such a key
 * is delegated (lib/auth.ts isDelegated): it calls models as the member, but reads none of the member's rows
 * and takes none of its admin powers. The row is required because the legacy `admins` / `members` lists
 * can name ids nobody has (a deleted user's, before /user/delete stripped them).
 */
export async function requireAssignableUser(c: AdminContext, db: Runner, userId: string | null | undefined, teamId: string | null | undefined): Promise<void> {
  const own = callerUserId(c);
  if (isProxyAdmin(c) || userId == null || userId === own) return;
  const team = teamId ? (await loadTeams(db, [teamId])).get(teamId) : undefined;
  const member = team !== undefined && isTeamMember(team, userId);
  const [user] = member ? await db.select({ role: users.user_role }).from(users).where(eq(users.user_id, userId)).limit(1) : [];
  if (!user || PRIVILEGED_ROLES.has(user.role ?? '')) {
    throw forbidden(`A key's user_id must be your own (${own ?? 'None'}) or a member's of the key's team (team_id=${teamId ?? 'None'}), `
      + `and not a proxy admin's: got user_id=${userId}. Add the user to the team first (/team/member_add); `
      + `only proxy admins can give a key a user id nobody has yet. Your role=${c.get('role')}`);
  }
}

/**
 * The `created_by` a key gets when a caller other than a proxy admin hands it to another user: gives it
 * that user (`/key/update`, `/key/regenerate` with a user_id), or takes its new plain value for it
 * (`/key/regenerate`). The key becomes delegated (lib/auth.ts isDelegated): a proxy admin's or the
 * user's own key would otherwise go on acting as that user in the admin API in the caller's hands.
 */
export function handedOverCreator(c: AdminContext, userId: string | null): { created_by?: string | null } {
  if (isProxyAdmin(c) || userId === null || userId === callerUserId(c)) return {};
  return { created_by: actor(c) };
}

/**
 * Refuses a caller other than a proxy admin a new plain key (`/key/regenerate`) for a key whose user is a
 * proxy admin or viewer, unless that user is the caller: the key would carry that role into the admin API.
 */
export async function requireUnprivilegedKeyUser(c: AdminContext, db: Runner, userId: string | null, what: string): Promise<void> {
  if (isProxyAdmin(c) || userId === null || userId === callerUserId(c)) return;
  const role = await storedRole(db, userId);
  if (role !== null && PRIVILEGED_ROLES.has(role)) {
    throw forbidden(`Only proxy admins can ${what} whose user is a ${role} (user_id=${userId}). Your role=${c.get('role')}`);
  }
}

/**
 * Refuses a caller other than a proxy admin a change to (`/key/update`, `/key/delete`, `/key/regenerate`,
 * `/key/block`, `/key/unblock`, `/key/{key}/reset_spend`) a key a
 * JWT is mapped to (LiteLLM_JWTKeyMapping), as LiteLLM does: the key is what some identity provider's clients call
 * as, so only whoever may map it may change, rotate or remove it. Proxy admins pay no query.
 */
export async function requireUnmappedKeys(c: AdminContext, db: Runner, tokens: readonly string[], what: string): Promise<void> {
  if (isProxyAdmin(c) || tokens.length === 0) return;
  const [mapped] = await db.select({ token: jwtKeyMappings.token }).from(jwtKeyMappings).where(inArray(jwtKeyMappings.token, [...tokens])).limit(1);
  if (mapped) {
    throw forbidden(`Only proxy admins can ${what} that a JWT is mapped to (/jwt/key/mapping/*). Your role=${c.get('role')}`);
  }
}

/**
 * A key's own organization_id outranks its team's when the gateway picks the organization whose limits
 * apply, so a caller other than a proxy admin may give a key only its team's organization, or none. With
 * `existing` (a change to that key), the key as it will be is checked, when the change touches its team or
 * organization.
 */
export async function requireKeyOrganization(
  c: AdminContext, db: Runner, change: { organization_id?: string | null; team_id?: string | null }, existing?: Pick<KeyRow, 'organization_id' | 'team_id'>,
): Promise<void> {
  if (isProxyAdmin(c) || (existing && change.organization_id === undefined && change.team_id === undefined)) return;
  const organizationId = change.organization_id !== undefined ? change.organization_id : existing?.organization_id ?? null;
  if (organizationId == null) return;
  const teamId = change.team_id !== undefined ? change.team_id : existing?.team_id ?? null;
  const team = teamId ? (await loadTeams(db, [teamId])).get(teamId) : undefined;
  if (team?.organization_id === organizationId) return;
  throw forbidden(`A key's organization_id must be its team's (team_id=${teamId ?? 'None'}, organization_id=${team?.organization_id ?? 'None'}), `
    + `got organization_id=${organizationId}. Only proxy admins can set another. Your role=${c.get('role')}`);
}

/** Whether the caller may read this key (`/key/info`). */
export async function mayReadKey(c: AdminContext, db: Runner, row: KeyRow): Promise<boolean> {
  if (isAdminReader(c)) return true;
  const caller = c.get('caller');
  if (caller.token === row.token) return true;
  const userId = callerUserId(c);
  if (userId !== null && row.user_id === userId) return true;
  if (!row.team_id || userId === null) return false;
  const team = (await loadTeams(db, [row.team_id])).get(row.team_id);
  return team !== undefined && isTeamAdmin(team, userId);
}

/** Teams whose keys the caller administers (for `/key/list?include_team_keys=true`). */
export async function adminTeamIds(db: Runner, userId: string): Promise<string[]> {
  const asMember = JSON.stringify([{ role: 'admin', user_id: userId }]);
  const rows = await db.select({ team_id: teams.team_id }).from(teams)
    .where(sql`${userId} = ANY(${teams.admins}) OR ${teams.members_with_roles} @> ${asMember}::jsonb`);
  return rows.map((t) => t.team_id);
}
