/**
 * LiteLLM's `budget_limits` (several budget windows on a key or a team)
 * between the API and its column. Each window's `reset_at` is the server's,
 * never the client's: stamped when written, brought forward when read, by the
 * rule the gateway's limiter applies to the column (worker/limits/budget-limits.ts):
 * a stored end still ahead stands (it fixes when a window of a plain duration
 * such as `2h` began), else the next boundary from now (midnight, Monday or
 * the 1st in `litellm_settings.timezone` for 1d/7d/30d and their aliases;
 * `duration` from now for others), so an answer never shows a past reset.
 */
import type { BudgetLimit } from '../../drizzle/schema/columns.ts';
import { currentWindowEnd } from '../../worker/limits/budget-limits.ts';
import { gatewayState } from '../../worker/state.ts';
import type { AdminContext } from './context.ts';
import { log } from '../../worker/telemetry/log.ts';

/** The instant and zone windows are computed at: one per request, so every window of an answer agrees. */
export interface BudgetClock {
  now: Date;
  timeZone: string;
}

/** A window as a request names it (validated by `budgetLimits` in routes/principals/fields.ts). */
export type BudgetLimitEntry = Pick<BudgetLimit, 'budget_duration' | 'max_budget'>;

/** `litellm_settings.timezone` from the config: budget windows align to midnight there (LiteLLM's default UTC). */
export async function budgetTimeZone(c: AdminContext): Promise<string> {
  const { config } = await gatewayState(c.env);
  const zone = config.litellm_settings.timezone;
  if (!zone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    // The config schema takes any string; a zone Intl does not know must not turn key writes (or reads) into 500s.
    log.warn(`litellm_settings.timezone "${zone.slice(0, 64)}" is not a known time zone; budget windows use UTC`);
    return 'UTC';
  }
}

export async function budgetClock(c: AdminContext): Promise<BudgetClock> {
  return { now: new Date(), timeZone: await budgetTimeZone(c) };
}

function currentResetAt(entry: BudgetLimit, { now, timeZone }: BudgetClock): string {
  const end = currentWindowEnd(entry.budget_duration, entry.reset_at, now.getTime(), timeZone);
  return end === null ? entry.reset_at : new Date(end).toISOString();
}

/** The stored list as the API shows it: every `reset_at` the end of the window open now; null stays null. */
export function currentBudgetLimits(stored: readonly BudgetLimit[] | null | undefined, clock: BudgetClock): BudgetLimit[] | null {
  if (!Array.isArray(stored)) return null;
  return stored.map((entry) => ({ ...entry, reset_at: currentResetAt(entry, clock) }));
}

/**
 * The column a request's list becomes (null clears it). A window the entity
 * already has (same `budget_duration`) keeps its end, so changing one window's
 * `max_budget` restarts no other; a new one ends at its next boundary.
 */
export function budgetLimitsColumn(
  requested: readonly BudgetLimitEntry[] | null,
  previous: readonly BudgetLimit[] | null | undefined,
  clock: BudgetClock,
): BudgetLimit[] | null {
  if (requested === null) return null;
  const ends = new Map((Array.isArray(previous) ? previous : []).map((p) => [p.budget_duration, p.reset_at]));
  return currentBudgetLimits(requested.map(({ budget_duration, max_budget }) => ({
    budget_duration, max_budget, reset_at: ends.get(budget_duration) ?? '',
  })), clock);
}
