import { DURATION } from '../config/fields.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds of a LiteLLM duration (`30s`, `30m`, `30h`, `30d`, `1w`; `1mo` counts 30 days), or undefined. */
export function durationSeconds(duration: string): number | undefined {
  const match = DURATION.exec(duration.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  return match[2] === 'mo' ? n * 30 * 86_400 : n * (UNIT_SECONDS[match[2] as string] ?? 0);
}

/** Wall-clock parts of an instant in a time zone (Intl; no tz database of our own). */
function zonedParts(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { year: Number(get('year')), month: Number(get('month')), day: Number(get('day')), hour: Number(get('hour')), minute: Number(get('minute')), second: Number(get('second')), weekday };
}

/** The instant when the wall clock in `timeZone` reads the given local date at midnight. */
function zonedMidnight(year: number, month: number, day: number, timeZone: string): Date {
  // Start from UTC midnight of that date and correct by the zone's offset there (twice, for DST edges).
  let guess = Date.UTC(year, month - 1, day);
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(new Date(guess), timeZone);
    const shownAsUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    guess -= shownAsUtc - Date.UTC(year, month - 1, day);
  }
  return new Date(guess);
}

/**
 * When a budget window that is open at `now` ends, aligned as LiteLLM aligns
 * them (`get_budget_reset_time`): a daily budget (`1d`, `24h`) at the next
 * midnight, a weekly one (`7d`, `1w`) next Monday at midnight, a monthly one
 * (`30d`, `1mo`) on the 1st at midnight, all in `timeZone`; any other
 * duration simply `duration` after `now`.
 */
export function nextBudgetReset(duration: string, now: Date, timeZone = 'UTC'): Date | undefined {
  const seconds = durationSeconds(duration);
  if (!seconds) return undefined;
  const local = zonedParts(now, timeZone);
  const d = duration.trim();
  if (d === '1d' || d === '24h') {
    const next = new Date(Date.UTC(local.year, local.month - 1, local.day + 1));
    return zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
  }
  if (d === '7d' || d === '1w') {
    const daysToMonday = ((8 - local.weekday) % 7) || 7;
    const next = new Date(Date.UTC(local.year, local.month - 1, local.day + daysToMonday));
    return zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
  }
  if (d === '30d' || d === '1mo') {
    const next = new Date(Date.UTC(local.year, local.month, 1));
    return zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, 1, timeZone);
  }
  return new Date(now.getTime() + seconds * 1000);
}

/** When the budget window open at `now` began: the calendar-aligned counterpart of nextBudgetReset. */
export function budgetWindowStart(duration: string, now: Date, timeZone = 'UTC'): Date | undefined {
  const seconds = durationSeconds(duration);
  if (!seconds) return undefined;
  const local = zonedParts(now, timeZone);
  const d = duration.trim();
  if (d === '1d' || d === '24h') return zonedMidnight(local.year, local.month, local.day, timeZone);
  if (d === '7d' || d === '1w') {
    const back = (local.weekday + 6) % 7;
    const start = new Date(Date.UTC(local.year, local.month - 1, local.day - back));
    return zonedMidnight(start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate(), timeZone);
  }
  if (d === '30d' || d === '1mo') return zonedMidnight(local.year, local.month, 1, timeZone);
  return new Date(now.getTime() - seconds * 1000);
}
