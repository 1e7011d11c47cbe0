/**
 * The limits of a key `auto_register` mints (jwt-auto-register.ts): `litellm_settings.default_key_generate_params`
 * then `upperbound_key_generate_params`, as /key/generate applies them to a key whose request sets nothing, so a
 * minted key is never wider than one an admin would get with an empty body. A default over its ceiling takes the
 * ceiling (there is no request to refuse). The defaults' `user_id` and `team_id` are not used: the key belongs to
 * what the token names.
 */
import type { z } from 'zod';
import type { keyGenerateBounds, keyGenerateDefaults } from '../config/key-settings-schema.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { durationSeconds, nextBudgetReset } from '../limits/windows.ts';

/** What the gateway's config says of keys `auto_register` mints (state.ts reads it from the config). */
export interface AutoRegisterOptions {
  /** `litellm_settings.store_audit_logs` (off: no audit rows for the key and its mapping). */
  audit?: boolean;
  defaults?: z.infer<typeof keyGenerateDefaults>;
  bounds?: z.infer<typeof keyGenerateBounds>;
  /** `litellm_settings.timezone`: a `budget_duration` window ends at midnight there. */
  timeZone?: string;
}

/** The options of `litellm_settings` (state.ts passes them to JwtAuth when JWT auth is on). */
export function autoRegisterOptions(settings: TollgateConfig['litellm_settings'] | undefined): AutoRegisterOptions {
  return {
    audit: settings?.store_audit_logs !== false, defaults: settings?.default_key_generate_params,
    bounds: settings?.upperbound_key_generate_params, timeZone: settings?.timezone,
  };
}

/** The key row's limit columns. */
export interface MintedKeyLimits {
  models: string[];
  max_budget: number | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  expires: Date | null;
  budget_duration: string | null;
  budget_reset_at: Date | null;
  metadata: Record<string, unknown>;
}

const numeric = ['max_budget', 'tpm_limit', 'rpm_limit', 'max_parallel_requests'] as const;
const durations = ['duration', 'budget_duration'] as const;

/** The default, held under its ceiling; the ceiling when there is no default (as /key/generate fills it). */
function bounded<T extends number | string>(value: T | undefined, ceiling: T | undefined, over: (v: T, c: T) => boolean): T | null {
  if (ceiling === undefined) return value ?? null;
  return value === undefined || over(value, ceiling) ? ceiling : value;
}

/** The zone if Intl knows it, else UTC (as admin-worker's budgetTimeZone: a bad zone must not fail the mint). */
function knownZone(zone: string | undefined): string {
  if (!zone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
}

/** Why: a client's key must get the gateway's key defaults and ceilings, not unlimited access. */
export function mintedKeyLimits(options: AutoRegisterOptions, now: Date): MintedKeyLimits {
  const defaults = options.defaults ?? {};
  const bounds = options.bounds ?? {};
  const seconds = (d: string) => durationSeconds(d) ?? Infinity;
  const n = Object.fromEntries(numeric.map((f) => [f, bounded(defaults[f], bounds[f], (v, c) => v > c)])) as Record<(typeof numeric)[number], number | null>;
  const d = Object.fromEntries(durations.map((f) => [f, bounded(defaults[f], bounds[f], (v, c) => seconds(v) > seconds(c))])) as Record<(typeof durations)[number], string | null>;
  const life = d.duration ? durationSeconds(d.duration) : undefined;
  return {
    ...n,
    models: [...(defaults.models ?? [])],
    expires: life === undefined ? null : new Date(now.getTime() + life * 1000),
    budget_duration: d.budget_duration,
    budget_reset_at: d.budget_duration ? nextBudgetReset(d.budget_duration, now, knownZone(options.timeZone)) ?? null : null,
    metadata: { ...(defaults.metadata ?? {}) },
  };
}
