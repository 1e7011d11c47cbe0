import type { AdminEnv } from '../env.ts';

export type ScheduledJob = (env: AdminEnv, ctx: ExecutionContext, scheduledTime: number) => Promise<void>;

/** Jobs run on every cron tick of admin-worker/wrangler.toml; each decides for itself whether it is due. */
export const SCHEDULED_JOBS: { name: string; run: ScheduledJob }[] = [];
