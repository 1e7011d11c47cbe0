import type { GatewayEnv } from '../env.ts';
import { backgroundHealthChecks } from './background-health.ts';
import { log } from '../telemetry/log.ts';

/**
 * The gateway's cron tick (wrangler.toml, every minute): background health
 * checks, when configured. A failure is logged; the next tick tries again.
 */
export async function scheduledTick(env: GatewayEnv, ctx: ExecutionContext, scheduledTime: number): Promise<void> {
  try {
    await backgroundHealthChecks(env, ctx, scheduledTime);
  } catch (err) {
    log.error('background health checks failed:', err instanceof Error ? err.message : String(err));
  }
}
