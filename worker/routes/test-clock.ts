import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { setClockOffset } from '../limits/clock.ts';
import { scheduledTick } from '../jobs/scheduled.ts';

/**
 * `POST /__tollgate/test/clock {"offset_ms": N}`: moves the limiters' clock,
 * so tests cross budget windows and refill buckets without waiting. Exists
 * only when the Worker has TOLLGATE_TEST_MODE=1 (the test suite's stacks).
 */
export async function setTestClock(c: Context<{ Bindings: GatewayEnv }>) {
  if (c.env.TOLLGATE_TEST_MODE !== '1') throw new GatewayError('Route not found', { status: 404, type: 'not_found_error' });
  const { offset_ms } = await c.req.json<{ offset_ms: number }>();
  setClockOffset(Number(offset_ms) || 0);
  return c.json({ offset_ms });
}

/**
 * `POST /__tollgate/test/scheduled {"scheduled_time": N}`: runs the gateway's
 * cron tick as if scheduled at N (epoch ms), so tests need not wait for a
 * minute boundary. TOLLGATE_TEST_MODE=1 only, as above.
 */
export async function runTestSchedule(c: Context<{ Bindings: GatewayEnv }>) {
  if (c.env.TOLLGATE_TEST_MODE !== '1') throw new GatewayError('Route not found', { status: 404, type: 'not_found_error' });
  const { scheduled_time } = await c.req.json<{ scheduled_time: number }>();
  await scheduledTick(c.env, c.executionCtx as ExecutionContext, Number(scheduled_time) || Date.now());
  return c.json({ scheduled_time });
}
