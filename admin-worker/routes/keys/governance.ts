/**
 * LiteLLM's key-governance settings, acted on by the key routes:
 * `litellm_settings.default_key_generate_params` (what a new key gets for a
 * field it leaves unset), `upperbound_key_generate_params` (ceilings on
 * generate, update and regenerate, for every caller), `key_generation_settings`
 * (which team members and which users may create team and personal keys, and
 * the fields they must send: creators.ts) and `general_settings.default_team_disabled`.
 */
import type { KeyRow } from '../../../drizzle/schema/keys.ts';
import type { TollgateConfig } from '../../../worker/config/schema.ts';
import { budgetCap } from '../../../worker/limits/policy.ts';
import { durationSeconds } from '../../../worker/limits/windows.ts';
import { gatewayState } from '../../../worker/state.ts';
import type { AdminContext } from '../../lib/context.ts';
import { badRequest } from '../../lib/validation.ts';
import type { KeyFieldsInput } from './schemas.ts';

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

type TempBudget = { max_budget?: number | null; temp_budget_increase?: number | null; temp_budget_expiry?: string | null };

/**
 * The `max_budget` ceiling holds for the budget a key is held to at once: its max_budget after the
 * change plus its temporary increase (the one sent, else the one it has) while that lasts, as the
 * gateway adds them (budgetCap). LiteLLM compares max_budget alone, which an increase would get round.
 */
export function enforceTempBudgetBound(fields: TempBudget, existing: Pick<KeyRow, 'max_budget' | 'metadata'>, bounds: KeyGovernance['bounds'], now: Date): void {
  const ceiling = bounds?.max_budget;
  if (ceiling === undefined) return;
  const maxBudget = fields.max_budget !== undefined ? fields.max_budget : existing.max_budget;
  const sent = fields.temp_budget_increase !== undefined;
  const increase = sent ? fields.temp_budget_increase : existing.metadata.temp_budget_increase;
  const expiry = sent ? fields.temp_budget_expiry : existing.metadata.temp_budget_expiry;
  if (maxBudget == null || typeof increase !== 'number' || increase <= 0 || typeof expiry !== 'string') return;
  const cap = budgetCap({ maxBudget, tempBudget: { increase, until: Date.parse(expiry) } }, now.getTime());
  if (cap !== null && cap > ceiling) {
    throw badRequest(`max_budget + temp_budget_increase is over max limit set in config - user_value=${maxBudget} + ${increase}; max_value=${ceiling}`,
      sent ? 'temp_budget_increase' : 'max_budget');
  }
}
