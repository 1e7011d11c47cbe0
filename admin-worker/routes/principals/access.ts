/** Who may act on a team or organization, beyond the proxy-admin roles (LiteLLM's RBAC). */
import type { TeamRow } from '../../../drizzle/schema/teams.ts';
import type { AdminContext } from '../../lib/context.ts';
import { callerUserId, isProxyAdmin } from '../../lib/auth.ts';
import { GatewayError } from '../../../worker/errors.ts';

export function forbidden(message: string): GatewayError {
  return new GatewayError(message, { status: 403, type: 'auth_error' });
}

/** The team of the calling virtual key, if any. */
export function callerTeamId(c: AdminContext): string | null {
  const caller = c.get('caller');
  return caller.kind === 'key' ? caller.policy.team?.id ?? null : null;
}

/** The caller's user is an admin of the team: in `members_with_roles` as admin, or in the legacy `admins` list. */
export function isTeamAdmin(c: AdminContext, team: Pick<TeamRow, 'members_with_roles' | 'admins'>): boolean {
  const userId = callerUserId(c);
  if (!userId) return false;
  return team.admins.includes(userId) || team.members_with_roles.some((m) => m.role === 'admin' && m.user_id === userId);
}

export function isTeamMember(c: AdminContext, team: Pick<TeamRow, 'members_with_roles' | 'admins' | 'members'>): boolean {
  const userId = callerUserId(c);
  if (!userId) return false;
  return team.admins.includes(userId) || team.members.includes(userId) || team.members_with_roles.some((m) => m.user_id === userId);
}

/** Proxy admins, and admins of this team; LiteLLM's check for member_add / member_delete / update. */
export function requireTeamAdmin(c: AdminContext, team: TeamRow, route: string): void {
  if (isProxyAdmin(c) || isTeamAdmin(c, team)) return;
  throw forbidden(`Call not allowed. User not proxy admin OR team admin. route=${route}, team_id=${team.team_id}`);
}
