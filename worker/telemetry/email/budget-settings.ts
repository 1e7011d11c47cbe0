/**
 * Whether the gateway emails budget alerts, and how: LiteLLM's email callback (`resend_email`, `sendgrid_email`
 * with its API key, settings.ts), `general_settings.alerting` naming "email" (which key budget emails need; a
 * team's soft budget email goes to its own list without it, as LiteLLM's does), and LiteLLM's env constants
 * EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE (0.8) and EMAIL_BUDGET_ALERT_TTL (seconds, 24 h). Read once per env.
 */
import { runtimeConfig } from '../../config/runtime.ts';
import { emailSettings, type EmailSettings } from './settings.ts';

export const DEFAULT_MAX_SPEND_SHARE = 0.8;
export const DEFAULT_TTL_S = 24 * 60 * 60;

export interface BudgetEmailSettings {
  email: EmailSettings;
  /** `alerting` names "email": keys' soft and max budget emails. */
  keyAlerts: boolean;
  /** The share of a key's max budget its max budget email goes at. */
  maxSpendShare: number;
  /** At most one email of each kind per entity this often. */
  ttlMs: number;
}

const cache = new WeakMap<object, BudgetEmailSettings | null>();

const positive = (value: unknown, fallback: number): number => {
  const n = typeof value === 'string' && value.trim() ? Number(value) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

/** The budget email settings, or undefined when no email callback can send (or the config does not load). */
export function budgetEmailSettings(env: Record<string, unknown>): BudgetEmailSettings | undefined {
  const known = cache.get(env);
  if (known !== undefined) return known ?? undefined;
  let settings: BudgetEmailSettings | null = null;
  try {
    const { config } = runtimeConfig(env);
    const l = config.litellm_settings;
    const email = emailSettings([l.callbacks, l.success_callback, l.failure_callback], env);
    if (email) {
      settings = {
        email,
        keyAlerts: (config.general_settings.alerting ?? []).includes('email'),
        maxSpendShare: positive(env.EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE, DEFAULT_MAX_SPEND_SHARE),
        ttlMs: positive(env.EMAIL_BUDGET_ALERT_TTL, DEFAULT_TTL_S) * 1000,
      };
    }
  } catch {
    settings = null;
  }
  cache.set(env, settings);
  return settings ?? undefined;
}
