import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { setClockOffset } from '../limits/clock.ts';

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
