/**
 * LiteLLM's spend reports (alert type `spend_reports`): spend per team and per request tag over a period,
 * posted to the Slack webhook. One every `general_settings.spend_report_frequency` (`"1d"`, `"7d"`,
 * `"30d"`; LiteLLM's default `7d`), and a monthly one on the 1st for the month just ended, as LiteLLM
 * schedules them. Read from the daily rollups, so a report costs a few index ranges, not a scan of spend logs.
 */
import { sql } from 'drizzle-orm';
import { type Database, type DatabaseEnv, openDatabase } from '../../worker/db/client.ts';
import { alertEnabled, alertSettings } from '../../worker/telemetry/alerts/settings.ts';
import { postToSlack } from '../../worker/telemetry/alerts/slack.ts';
import { log } from '../../worker/telemetry/log.ts';

const DAY_MS = 86_400_000;
/** LiteLLM's default `spend_report_frequency`. */
export const DEFAULT_SPEND_REPORT_FREQUENCY = '7d';
/**
 * A period's report is due this long after the period ends, not at once: spend still landing in the daily
 * rollups then (a stream finishing after midnight, batches queued for the spend-log consumer) is counted.
 */
export const REPORT_DELAY_MS = 10 * 60_000;
/** From when a report is due, ticks go on trying to send it for this long (a post Slack may take later is tried again next minute). */
const CATCH_UP_MS = 3_600_000;
/** Rows listed per section: Slack cuts a message past 3,000 characters, so the biggest spenders come first. */
const MAX_ROWS = 25;

/** A report's inclusive range of UTC days (`YYYY-MM-DD`). */
export interface ReportRange { first: string; last: string; days: number }

interface Spend { name: string; spend: number }
type Db = Pick<Database['db'], 'execute'>;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** `11-27-2026`, the way LiteLLM's report writes dates. */
const shown = (date: string) => `${date.slice(5, 7)}-${date.slice(8, 10)}-${date.slice(0, 4)}`;
/** Rounded to 4 places, as LiteLLM rounds its report's amounts. */
const amount = (spend: number) => `$${Number(spend.toFixed(4))}`;

/** The days of a `"<n>d"` frequency (`"7D"`, `"07d"` too, as LiteLLM reads them), or undefined for anything else (LiteLLM takes days only). */
export function frequencyDays(frequency: string): number | undefined {
  const match = /^(\d+)[dD]$/.exec(frequency.trim());
  const days = match ? Number(match[1]) : 0;
  return days > 0 ? days : undefined;
}

/** Spend per team (alias, else id; LiteLLM's `None` for calls of keys in no team) and per tag over `range`, biggest first. */
export async function readSpendReport(db: Db, range: ReportRange): Promise<{ teams: Spend[]; tags: Spend[] }> {
  const { rows: teams } = await db.execute<{ name: string; spend: number }>(sql`
    SELECT COALESCE(t.team_alias, d.team_id) AS name, SUM(d.spend)::float8 AS spend
    FROM "LiteLLM_DailyTeamSpend" d LEFT JOIN "LiteLLM_TeamTable" t ON t.team_id = d.team_id
    WHERE d.date >= ${range.first} AND d.date <= ${range.last}
    GROUP BY 1 ORDER BY 2 DESC`);
  const { rows: [all] } = await db.execute<{ spend: number | null }>(sql`
    SELECT SUM(spend)::float8 AS spend FROM "LiteLLM_DailyKeySpend" WHERE date >= ${range.first} AND date <= ${range.last}`);
  const { rows: tags } = await db.execute<{ name: string; spend: number }>(sql`
    SELECT tag AS name, SUM(spend)::float8 AS spend FROM "LiteLLM_DailyTagSpend"
    WHERE date >= ${range.first} AND date <= ${range.last} GROUP BY 1 ORDER BY 2 DESC`);
  const teamSpend = teams.map((r) => ({ name: r.name, spend: Number(r.spend) }));
  const noTeam = Number(all?.spend ?? 0) - teamSpend.reduce((n, r) => n + r.spend, 0);
  if (noTeam > 1e-9) teamSpend.push({ name: 'None', spend: noTeam });
  teamSpend.sort((a, b) => b.spend - a.spend);
  return { teams: teamSpend, tags: tags.map((r) => ({ name: r.name, spend: Number(r.spend) })) };
}

/**
 * A team or tag name as Slack shows it literally: tags come from clients (body `tags`, `metadata.tags`,
 * `x-litellm-tags`), so `&`, `<`, `>` are escaped as Slack requires (no `<!channel>` pings, no links) and
 * backticks, line breaks and other control characters are replaced (no closing the code span, no fake rows).
 */
export function slackName(name: string): string {
  return name
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/`/g, "'")
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

/** LiteLLM's report text: a title, then `Team: \`x\` | Spend: \`$y\`` and `Tag: ...` lines, biggest first. */
export function spendReportText(title: string, report: { teams: Spend[]; tags: Spend[] }): string {
  const section = (heading: string, label: string, rows: Spend[]) => {
    if (!rows.length) return '';
    const listed = rows.slice(0, MAX_ROWS).map((r) => `${label}: \`${slackName(r.name)}\` | Spend: \`${amount(r.spend)}\`\n`).join('');
    const more = rows.length > MAX_ROWS ? `...and ${rows.length - MAX_ROWS} more (${amount(rows.slice(MAX_ROWS).reduce((n, r) => n + r.spend, 0))})\n` : '';
    return `\n*${heading}:*\n${listed}${more}`;
  };
  return `${title}\n${section('Team Spend Report', 'Team', report.teams)}${section('Tag Spend Report', 'Tag', report.tags)}`;
}

/** The periodic report's title, as LiteLLM words it. */
const periodicTitle = (range: ReportRange) => `*💸 Spend Report for \`${shown(range.first)} - ${shown(range.last)}\` (${range.days} days)*`;
const monthlyTitle = (range: ReportRange) => `*💸 Monthly Spend Report for \`${shown(range.first)} - ${shown(range.last)}\` *`;

type SendResult = 'sent' | 'empty' | 'claimed' | { failed: string; permanent: boolean };
interface Claim { row: string; periodEnd: string }

/**
 * Claims a period's report for this tick, in a short transaction of its own: the row is set to the period
 * (with a claim id) only if it named another, so of several admin isolates ticking at once one gets it.
 * Returns the claim id and the value it replaced (to put back if the post fails), or undefined when taken.
 */
async function claimPeriod(db: Database['db'], claim: Claim): Promise<{ id: string; previous: unknown } | undefined> {
  const id = crypto.randomUUID();
  return db.transaction(async (tx) => {
    // Locks an existing row, so the value read is the one replaced; a first-ever row is decided by ON CONFLICT.
    const { rows: [old] } = await tx.execute<{ param_value: unknown }>(sql`
      SELECT param_value FROM "LiteLLM_Config" WHERE param_name = ${claim.row} FOR UPDATE`);
    const { rows } = await tx.execute(sql`
      INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES (${claim.row}, ${JSON.stringify({ period_end: claim.periodEnd, claim: id })}::jsonb)
      ON CONFLICT (param_name) DO UPDATE SET param_value = EXCLUDED.param_value
      WHERE "LiteLLM_Config".param_value->>'period_end' IS DISTINCT FROM EXCLUDED.param_value->>'period_end'
      RETURNING param_name`);
    return rows.length ? { id, previous: old?.param_value ?? null } : undefined;
  });
}

/** Gives a claimed period back (the value it replaced), only if the row still holds this claim, so a later tick tries again. */
async function releaseClaim(db: Database['db'], claim: Claim, taken: { id: string; previous: unknown }): Promise<void> {
  if (taken.previous === null) {
    await db.execute(sql`DELETE FROM "LiteLLM_Config" WHERE param_name = ${claim.row} AND param_value->>'claim' = ${taken.id}`);
  } else {
    await db.execute(sql`
      UPDATE "LiteLLM_Config" SET param_value = ${JSON.stringify(taken.previous)}::jsonb
      WHERE param_name = ${claim.row} AND param_value->>'claim' = ${taken.id}`);
  }
}

/**
 * Reads the report for `range` and posts it. With `claim` (a LiteLLM_Config row name and the period's end),
 * the period is claimed first and committed (claimPeriod), and the post is made outside any transaction:
 * no row lock or connection is held while Slack answers, and a post Slack took stays sent. A post that
 * failed for now (5xx, 429, network) gives the claim back so the next tick tries again; one Slack refuses
 * for good (a revoked webhook's 404) keeps it: that period's report is not tried again. No spend in the
 * range: nothing is sent, as in LiteLLM.
 */
async function sendReport(env: DatabaseEnv, webhookUrl: string, title: string, range: ReportRange, claim?: Claim): Promise<SendResult> {
  const database = openDatabase(env);
  try {
    const taken = claim ? await claimPeriod(database.db, claim) : undefined;
    if (claim && !taken) return 'claimed';
    let posted: Awaited<ReturnType<typeof postToSlack>>;
    try {
      const report = await readSpendReport(database.db, range);
      if (!report.teams.length && !report.tags.length) return 'empty';
      posted = await postToSlack(webhookUrl, spendReportText(title, report));
    } catch (err) {
      if (claim && taken) await releaseClaim(database.db, claim, taken);
      throw err;
    }
    if (posted.ok) return 'sent';
    if (claim && taken && !posted.permanent) await releaseClaim(database.db, claim, taken);
    return { failed: posted.detail, permanent: posted.permanent };
  } finally {
    await database.close();
  }
}

/** The periodic report's range: the `days` UTC days that end at `endMs` (a period boundary or, sent by hand, now). */
export function rangeEndingAt(endMs: number, days: number, inclusiveOfEnd: boolean): ReportRange {
  const lastMs = inclusiveOfEnd ? endMs : endMs - DAY_MS;
  return { first: day(lastMs - (days - 1) * DAY_MS), last: day(lastMs), days };
}

/** The calendar month (UTC) before the one `atMs` is in. */
function previousMonth(atMs: number): ReportRange {
  const at = new Date(atMs);
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1);
  const end = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1) - DAY_MS;
  return { first: day(start), last: day(end), days: Math.round((end - start) / DAY_MS) + 1 };
}

interface ReportConfig { spend_report_frequency?: string }

/** Where reports go, when they are on: Slack alerting set up and `spend_reports` among the alert types (all are, unset). */
function reportWebhook(env: Record<string, unknown>): string | undefined {
  const settings = alertSettings(env);
  return alertEnabled(settings, 'spend_reports') ? settings.webhookUrl : undefined;
}

/**
 * The scheduled job: on the first tick (or the first hour of ticks, when a post fails for now) from
 * REPORT_DELAY_MS after a period boundary (from the epoch, UTC: every midnight for `1d`, Thursdays 00:00
 * for `7d`), the report of the period just ended; after 00:10 on the 1st, the month just ended's.
 * Each is sent once per period.
 */
export async function runSpendReports(env: DatabaseEnv & Record<string, unknown>, general: ReportConfig, scheduledTime: number): Promise<void> {
  const webhookUrl = reportWebhook(env);
  if (!webhookUrl) return;
  const days = frequencyDays(general.spend_report_frequency ?? DEFAULT_SPEND_REPORT_FREQUENCY);
  const due: { row: string; end: number; title: string; range: ReportRange }[] = [];
  if (days) {
    const end = scheduledTime - (scheduledTime % (days * DAY_MS));
    if (scheduledTime - end >= REPORT_DELAY_MS && scheduledTime - end < REPORT_DELAY_MS + CATCH_UP_MS) {
      const range = rangeEndingAt(end, days, false);
      due.push({ row: 'tollgate_spend_report', end, title: periodicTitle(range), range });
    }
  }
  const at = new Date(scheduledTime);
  const monthStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  if (scheduledTime - monthStart >= REPORT_DELAY_MS && scheduledTime - monthStart < REPORT_DELAY_MS + CATCH_UP_MS) {
    const range = previousMonth(scheduledTime);
    due.push({ row: 'tollgate_monthly_spend_report', end: monthStart, title: monthlyTitle(range), range });
  }
  for (const report of due) {
    const result = await sendReport(env, webhookUrl, report.title, report.range, { row: report.row, periodEnd: new Date(report.end).toISOString() });
    if (result === 'sent') log.info(`spend report for ${report.range.first} - ${report.range.last} sent to Slack`);
    else if (typeof result === 'object' && result.permanent) log.error(`spend report for ${report.range.first} - ${report.range.last} not sent: Slack refused it (${result.failed}); not tried again for this period`);
    else if (typeof result === 'object') log.warn(`spend report for ${report.range.first} - ${report.range.last} not sent (${result.failed}); trying again next minute`);
  }
}

/**
 * LiteLLM's `/health/services?service=slack` also sends the spend reports at once: the last
 * `spend_report_frequency` days up to today (LiteLLM's always takes 7 days) and the month so far.
 * Not recorded as a period's report.
 */
export async function sendSpendReportsNow(env: DatabaseEnv & Record<string, unknown>, general: ReportConfig, nowMs: number): Promise<void> {
  const webhookUrl = reportWebhook(env);
  if (!webhookUrl) return;
  const days = frequencyDays(general.spend_report_frequency ?? DEFAULT_SPEND_REPORT_FREQUENCY) ?? 7;
  const recent = rangeEndingAt(nowMs, days, true);
  const now = new Date(nowMs);
  const monthFirst = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const month: ReportRange = { first: day(monthFirst), last: day(nowMs), days: Math.round((nowMs - monthFirst) / DAY_MS) + 1 };
  for (const [title, range] of [[periodicTitle(recent), recent], [monthlyTitle(month), month]] as const) {
    const result = await sendReport(env, webhookUrl, title, range);
    if (typeof result === 'object') log.warn(`spend report for ${range.first} - ${range.last} not sent: ${result.failed}`);
  }
}
