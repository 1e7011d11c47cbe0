/**
 * LiteLLM's key-governance settings, acted on by the key routes:
 * `litellm_settings.default_key_generate_params` (what a new key gets for a
 * field it leaves unset), `upperbound_key_generate_params` (ceilings on
 * generate, update and regenerate, for every caller), `key_generation_settings`
 * (which team members and which users may create team and personal keys, and
 * the fields they must send) and `general_settings.default_team_disabled`.
 */
import type { TollgateConfig } from '../../../worker/config/schema.ts';
import { durationSeconds } from '../../../worker/limits/windows.ts';
import { gatewayState } from '../../../worker/state.ts';
import type { TeamRow } from '../../../drizzle/schema/teams.ts';
import { callerUserId } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { badRequest } from '../../lib/validation.ts';
import { forbidden, isTeamAdmin, loadTeams, requireAssignableUser, requireKeyManager } from './access.ts';
import type { KeyFieldsInput } from './schemas.ts';
import type { Runner } from './store.ts';

type LitellmSettings = TollgateConfig['litellm_settings'];

export interface KeyGovernance {
  defaults: LitellmSettings['default_key_generate_params'];
  bounds: LitellmSettings['upperbound_key_generate_params'];
  generation: LitellmSettings['key_generation_settings'];
  defaultTeamDisabled: boolean;
}

/** The settings as config.yaml has them (read once per isolate by gatewayState). */
export async function keyGovernance(c: AdminContext): Promise<KeyGovernance> {
  const { config } = await gatewayState(c.env);
  const settings = config.litellm_settings;
  return {
    defaults: settings.default_key_generate_params,
    bounds: settings.upperbound_key_generate_params,
    generation: settings.key_generation_settings,
    defaultTeamDisabled: config.general_settings.default_team_disabled === true,
  };
}

/** The fields a body sets, null included (pydantic's `exclude_unset`, which LiteLLM's required_params reads). */
export function sentFields(data: object): ReadonlySet<string> {
  return new Set(Object.entries(data).filter(([, value]) => value !== undefined).map(([field]) => field));
}

type KeyFields = Omit<KeyFieldsInput, 'key'>;

const SCALAR_DEFAULTS = ['max_budget', 'budget_duration', 'duration', 'user_id', 'team_id', 'max_parallel_requests', 'tpm_limit', 'rpm_limit'] as const;

/**
 * `default_key_generate_params` on a key being generated: each field the request leaves unset (absent
 * or null; for `models` also `[]`, for `metadata` also `{}`) takes the default. A service account's
 * `user_id` stays null. Applied before the access checks, so a default team or user is held to them
 * as if the caller had sent it.
 */
export function applyKeyDefaults(data: KeyFields, defaults: KeyGovernance['defaults'], serviceAccount: boolean): void {
  if (!defaults) return;
  for (const field of SCALAR_DEFAULTS) {
    const value = defaults[field];
    if (value === undefined || data[field] != null || (field === 'user_id' && serviceAccount)) continue;
    (data as Record<string, unknown>)[field] = value;
  }
  if (defaults.models && !data.models?.length) data.models = [...defaults.models];
  if (defaults.metadata && (data.metadata == null || Object.keys(data.metadata).length === 0)) data.metadata = { ...defaults.metadata };
}

const BOUNDED = ['max_budget', 'budget_duration', 'duration', 'max_parallel_requests', 'tpm_limit', 'rpm_limit'] as const;
type Bounded = Partial<Record<(typeof BOUNDED)[number], number | string | null>>;

/**
 * `upperbound_key_generate_params`, for every caller (the master key too, as in LiteLLM). On generate
 * (`fill`) a field left unset gets the ceiling; on update and regenerate only the fields the request
 * sets are compared, and null (no limit, no expiry) is over any ceiling. Durations compare in seconds.
 */
export function enforceKeyBounds(data: Bounded, bounds: KeyGovernance['bounds'], fill: boolean): void {
  if (!bounds) return;
  for (const field of BOUNDED) {
    const ceiling = bounds[field];
    const value = data[field];
    if (ceiling === undefined || value === undefined) {
      if (ceiling !== undefined && fill) data[field] = ceiling;
      continue;
    }
    if (value === null) {
      if (fill) {
        data[field] = ceiling;
        continue;
      }
      throw overCeiling(field, 'None', ceiling);
    }
    const over = typeof value === 'number'
      ? value > Number(ceiling)
      : (durationSeconds(value) ?? Infinity) > (durationSeconds(String(ceiling)) ?? Infinity);
    if (over) throw overCeiling(field, value, ceiling);
  }
}

function overCeiling(field: string, value: number | string, ceiling: number | string) {
  return badRequest(`${field} is over max limit set in config - user_value=${value}; max_value=${ceiling}`, field);
}

/** A list as Python prints it, as LiteLLM's messages show the configured roles. */
const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`;

/** The caller's role in a team: `admin` (`admins`, or an admin in members_with_roles), `user` (any other member), or none. */
function teamRole(team: TeamRow, userId: string | null): 'admin' | 'user' | null {
  if (!userId) return null;
  if (isTeamAdmin(team, userId)) return 'admin';
  const member = team.members.includes(userId) || team.members_with_roles.some((m) => m.user_id === userId);
  return member ? 'user' : null;
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
 * key by the team's admins, or with `team_key_generation` by members whose role it allows (a plain
 * member only for themselves, never a service account); a key of no team by nobody, or with
 * `personal_key_generation` by users of the roles it allows, for themselves, unless
 * `default_team_disabled`. `sent` is what the request set, for `required_params`.
 */
export async function requireKeyCreator(
  c: AdminContext, db: Runner, data: KeyFields, sent: ReadonlySet<string>, serviceAccount: boolean, governance: KeyGovernance,
): Promise<void> {
  if (!data.team_id) {
    requirePersonalKeyCreator(c, data, sent, governance);
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

function requirePersonalKeyCreator(c: AdminContext, data: KeyFields, sent: ReadonlySet<string>, governance: KeyGovernance): void {
  const role = c.get('role');
  if (governance.defaultTeamDisabled) {
    throw forbidden('Personal keys are disabled on this proxy (general_settings.default_team_disabled): pass a team_id to create a key for a team');
  }
  const rules = governance.generation?.personal_key_generation;
  if (!rules) throw forbidden(`Only proxy admins can create keys without a team_id. Your role=${role}`);
  if (rules.allowed_user_roles && !rules.allowed_user_roles.includes(role)) {
    throw badRequest(`Personal key creation has been restricted by admin. Allowed roles=${pyList(rules.allowed_user_roles)}. Your role=${role}`);
  }
  // A personal key is its user's: a calling key with no user (a service account's) would mint one outside its team's limits.
  if (!callerUserId(c)) throw forbidden('Personal keys are created by users: the calling key has no user_id');
  requireOwnKey(c, data.user_id);
  requireParams(rules.required_params, sent);
}
