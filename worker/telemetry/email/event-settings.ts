/**
 * LiteLLM's per-event email switches (`/email/event_settings`): which of its emails go. Stored where LiteLLM keeps
 * them, LiteLLM_Config's `general_settings` row, as `param_value.email_settings` (event name → boolean), so a
 * database shared with LiteLLM keeps them; read merged over LiteLLM's defaults (every event on). Pure, but for
 * readEmailEvents, which takes any Postgres client.
 */
import { STORED_ROWS } from '../../config/stored-rows.ts';
import type { BudgetEmailKind } from './budget-due.ts';
import type { EmailEventKind } from './settings.ts';

/** LiteLLM's EmailEvent values, in its order: the names the routes answer and take. */
export const EMAIL_EVENTS = ['Virtual Key Created', 'New User Invitation', 'Virtual Key Rotated', 'Soft Budget Crossed', 'Max Budget Alert'] as const;
export type EmailEvent = (typeof EMAIL_EVENTS)[number];

/** The LiteLLM_Config row the switches are a field of. */
export const GENERAL_SETTINGS_ROW = STORED_ROWS.general_settings;

/** Event name → on, every known event present; a stored name Tollgate does not know (a newer LiteLLM's) is kept too. */
export type EmailEventSettings = Record<EmailEvent, boolean> & Record<string, boolean>;

/** LiteLLM's DefaultEmailSettings: every event on. */
export const defaultEmailEvents = (): EmailEventSettings => Object.fromEntries(EMAIL_EVENTS.map((event) => [event, true])) as EmailEventSettings;

/** Which switch each email obeys. */
export const EVENT_OF: Record<EmailEventKind | BudgetEmailKind, EmailEvent> = {
  virtual_key_created: 'Virtual Key Created',
  new_user_invitation: 'New User Invitation',
  virtual_key_rotated: 'Virtual Key Rotated',
  soft_budget: 'Soft Budget Crossed',
  team_soft_budget: 'Soft Budget Crossed',
  max_budget_alert: 'Max Budget Alert',
};

/**
 * The row's `param_value` as a mapping: LiteLLM writes it as a JSON string (`json.dumps`) as well as an object, and
 * reads both; absent or null is an empty mapping. Undefined for anything else (not JSON, a list, a scalar): a
 * reader takes that as no settings, a writer must not replace it.
 */
export function generalSettingsOf(paramValue: unknown): Record<string, unknown> | undefined {
  let value = paramValue;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value === null || value === undefined) return {};
  return typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : undefined;
}

/** The stored switches over the defaults, as LiteLLM's `_get_email_settings` merges them; a stored value that is not a boolean is skipped. */
export function emailEventsOf(paramValue: unknown): EmailEventSettings {
  const merged = defaultEmailEvents();
  const stored = generalSettingsOf(paramValue)?.email_settings;
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return merged;
  for (const [event, enabled] of Object.entries(stored)) {
    if (typeof enabled === 'boolean') merged[event] = enabled;
  }
  return merged;
}

/** `GET /email/event_settings`'s answer: every known event, in LiteLLM's order. */
export const eventSettingsList = (settings: EmailEventSettings): { event: EmailEvent; enabled: boolean }[] =>
  EMAIL_EVENTS.map((event) => ({ event, enabled: settings[event] }));

/** The part of a Postgres client (pg's or Neon's Pool) readEmailEvents uses. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** The switches as stored now. Rejects when the read fails: the caller decides what a failure means. */
export async function readEmailEvents(client: Queryable): Promise<EmailEventSettings> {
  const { rows } = await client.query('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = $1', [GENERAL_SETTINGS_ROW]);
  return emailEventsOf(rows[0]?.param_value);
}
