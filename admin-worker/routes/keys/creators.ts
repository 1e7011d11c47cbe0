/**
 * Who besides a proxy admin may create a key, by LiteLLM's `key_generation_settings` (team keys by
 * team member role, personal keys by user role, and the fields each must send) and
 * `general_settings.default_team_disabled`.
 */
import type { TeamRow } from '../../../drizzle/schema/teams.ts';
import { callerUserId } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { badRequest } from '../../lib/validation.ts';
import { forbidden, isTeamAdmin, isTeamMember, loadTeams, requireAssignableUser, requireKeyManager, storedRole } from './access.ts';
import type { KeyGovernance } from './governance.ts';
import type { KeyFieldsInput } from './schemas.ts';
import type { Runner } from './store.ts';

type KeyFields = Omit<KeyFieldsInput, 'key'>;

/** A list as Python prints it, as LiteLLM's messages show the configured roles. */
const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`;

/** The caller's role in a team: `admin` (`admins`, or an admin in members_with_roles), `user` (any other member), or none. */
function teamRole(team: TeamRow, userId: string | null): 'admin' | 'user' | null {
  if (!userId) return null;
  if (isTeamAdmin(team, userId)) return 'admin';
  return isTeamMember(team, userId) ? 'user' : null;
}

function requireParams(required: readonly string[] | undefined, sent: ReadonlySet<string>): void {
  for (const param of required ?? []) {
    if (!sent.has(param)) throw badRequest(`Required param ${param} not in data`, param);
  }
}

/** LiteLLM's refusal of a key for someone else, in its words. */
function requireOwnKey(c: AdminContext, userId: string | null | undefined): void {
  const own = callerUserId(c);
  if (userId != null && userId !== own) {
    throw forbidden(`User can only create keys for themselves. Got user_id=${userId}, Your ID=${own ?? 'None'}`);
  }
}

/**
 * Who besides a proxy admin (never restricted) may create this key, with its defaults applied: a team
 * key by the team's admins, or with `team_key_generation` by members whose role it allows, for a user
 * of the team (a plain member only for themselves, never a service account); a key of no team by nobody,
 * or with `personal_key_generation` by users of the roles it allows, for themselves, unless
 * `default_team_disabled`. `sent` is what the request set, for `required_params`.
 */
export async function requireKeyCreator(
  c: AdminContext, db: Runner, data: KeyFields, sent: ReadonlySet<string>, serviceAccount: boolean, governance: KeyGovernance,
): Promise<void> {
  if (!data.team_id) {
    await requirePersonalKeyCreator(c, db, data, sent, governance);
    return;
  }
  const rules = governance.generation?.team_key_generation;
  if (!rules) {
    await requireKeyManager(c, db, [data.team_id], 'create keys for this team');
    if (!serviceAccount) await requireAssignableUser(c, db, data.user_id, data.team_id);
    return;
  }
  const team = (await loadTeams(db, [data.team_id])).get(data.team_id);
  if (!team) throw badRequest(`Unable to find team object in database. Team ID: ${data.team_id}`, 'team_id');
  // LiteLLM's first check: the key's user is one of the team's, whoever asks.
  if (data.user_id != null && !isTeamMember(team, data.user_id)) {
    throw badRequest(`User=${data.user_id} not assigned to team=${team.team_id}`, 'user_id');
  }
  const userId = callerUserId(c);
  const role = teamRole(team, userId);
  if (!role) throw badRequest(`User=${userId ?? 'None'} not assigned to team=${team.team_id}`, 'team_id');
  // LiteLLM's default when the list is left out: any member.
  const allowed = rules.allowed_team_member_roles ?? ['admin', 'user'];
  if (!allowed.includes(role)) throw badRequest(`Team member role ${role} not in allowed_team_member_roles=${pyList(allowed)}`, 'team_id');
  if (role === 'admin') {
    if (!serviceAccount) await requireAssignableUser(c, db, data.user_id, data.team_id);
  } else if (serviceAccount) {
    // A service account outlives its maker and spends as the team: an admin's call, not a member's.
    throw forbidden(`Only proxy admins, or admins of the key's team, can create service account keys. Your team role=${role}`);
  } else {
    requireOwnKey(c, data.user_id);
  }
  requireParams(rules.required_params, sent);
}

/**
 * A key of no team is held to no team's budget, only to its user's: so it is made by a user that has a
 * row (its role read there, not the calling key's role, which is `internal_user` for a user id with no
 * row), for that user.
 */
async function requirePersonalKeyCreator(c: AdminContext, db: Runner, data: KeyFields, sent: ReadonlySet<string>, governance: KeyGovernance): Promise<void> {
  if (governance.defaultTeamDisabled) {
    throw forbidden('Personal keys are disabled on this proxy (general_settings.default_team_disabled): pass a team_id to create a key for a team');
  }
  const rules = governance.generation?.personal_key_generation;
  if (!rules) throw forbidden(`Only proxy admins can create keys without a team_id. Your role=${c.get('role')}`);
  const userId = callerUserId(c);
  // A calling key with no user (a service account's) would mint keys outside its team's limits.
  if (!userId) throw forbidden('Personal keys are created by users: the calling key has no user_id');
  const role = await storedRole(db, userId);
  const allowed = rules.allowed_user_roles;
  if (allowed && (role === null || !(allowed as readonly string[]).includes(role))) {
    throw badRequest(`Personal key creation has been restricted by admin. Allowed roles=${pyList(allowed)}. Your role=${role ?? 'None'}`);
  }
  if (role === null) {
    throw badRequest(`Personal key creation needs a user: user_id=${userId} has no row in LiteLLM_UserTable (create it with /user/new). Your role=None`);
  }
  requireOwnKey(c, data.user_id);
  requireParams(rules.required_params, sent);
}
