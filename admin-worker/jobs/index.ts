import { durationSeconds } from '../../worker/limits/windows.ts';
import { gatewayState } from '../../worker/state.ts';
import type { AdminEnv } from '../env.ts';
import { resetDueBudgets } from './budget-reset.ts';
import { deleteOldSpendLogIds, deleteOldSpendLogs } from './spend-log-retention.ts';
import { runSpendReports } from './spend-report.ts';
import { log } from '../../worker/telemetry/log.ts';

export type ScheduledJob = (env: AdminEnv, ctx: ExecutionContext, scheduledTime: number) => Promise<void>;

/** What one run of a job may take: the cron ticks every minute, so runs do not pile up. */
const JOB_TIME_BUDGET_MS = 20_000;

/**
 * `general_settings.maximum_spend_logs_retention_period` (e.g. `30d`): spend-log
 * rows older than that are deleted, in chunks. It runs on the ticks that
 * `maximum_spend_logs_retention_interval` aligns to (from the epoch, UTC),
 * or on every tick without one: a run with nothing to delete is one index probe.
 */
export const spendLogRetentionJob: ScheduledJob = async (env, _ctx, scheduledTime) => {
  const { config } = await gatewayState(env);
  const period = config.general_settings.maximum_spend_logs_retention_period;
  const periodSeconds = period ? durationSeconds(period) : undefined;
  if (!periodSeconds) return;
  const interval = config.general_settings.maximum_spend_logs_retention_interval;
  const intervalMs = (interval ? durationSeconds(interval) ?? 0 : 0) * 1000;
  if (intervalMs > 60_000 && scheduledTime % intervalMs >= 60_000) return;
  const before = new Date(scheduledTime - periodSeconds * 1000);
  const started = Date.now();
  const { deleted, more } = await deleteOldSpendLogs(env, { before, timeBudgetMs: JOB_TIME_BUDGET_MS });
  if (deleted > 0 || more) {
    log.info(`spend-log retention (${period}): deleted ${deleted} rows started before ${before.toISOString()} in ${Date.now() - started} ms`
      + (more ? '; more remain, continuing at the next run' : ''));
  }
};

/**
 * LiteLLM's reset_budget_job: see resetDueBudgets. `general_settings.disable_reset_budget: true`
 * skips all of it, as LiteLLM then never schedules the job: no key, team, user, end user,
 * organization, membership, tag or budget row has its spend zeroed or its budget_reset_at moved on.
 */
export const budgetResetJob: ScheduledJob = async (env) => {
  const { config } = await gatewayState(env);
  if (config.general_settings.disable_reset_budget === true) return;
  const counts = await resetDueBudgets(env, {
    now: new Date(), timeZone: config.litellm_settings.timezone, timeBudgetMs: JOB_TIME_BUDGET_MS,
    configTagBudgets: new Set(Object.keys(config.litellm_settings.tag_budget_config ?? {})),
  });
  const done = Object.entries(counts).filter(([, n]) => n > 0);
  if (done.length) log.info(`budget reset: ${done.map(([kind, n]) => `${n} ${kind}`).join(', ')}`);
};

/** disable_spend_logs keeps written request ids instead of rows, for 30 days: older ones go, every tick (an index probe when none are due). */
export const spendLogIdRetentionJob: ScheduledJob = async (env, _ctx, scheduledTime) => {
  const { deleted, more } = await deleteOldSpendLogIds(env, { now: new Date(scheduledTime), timeBudgetMs: JOB_TIME_BUDGET_MS });
  if (deleted > 0) log.info(`spend-log ids: deleted ${deleted} request ids older than 30 days${more ? '; more remain, continuing at the next run' : ''}`);
};

/** LiteLLM's spend reports to Slack (`spend_reports`, `general_settings.spend_report_frequency`): see runSpendReports. */
export const spendReportJob: ScheduledJob = async (env, _ctx, scheduledTime) => {
  const { config } = await gatewayState(env);
  await runSpendReports(env as AdminEnv & Record<string, unknown>, config.general_settings, scheduledTime);
};

/** Jobs run on every cron tick of admin-worker/wrangler.toml; each decides for itself whether it is due. */
export const SCHEDULED_JOBS: { name: string; run: ScheduledJob }[] = [
  { name: 'spend-log retention', run: spendLogRetentionJob },
  { name: 'budget reset', run: budgetResetJob },
  { name: 'spend-log id retention', run: spendLogIdRetentionJob },
  { name: 'spend report', run: spendReportJob },
];
