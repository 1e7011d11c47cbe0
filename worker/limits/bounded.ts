import { GatewayError } from '../errors.ts';
import { log } from '../telemetry/log.ts';
import { loggedKey } from '../auth/jwt-identity.ts';

/** A limiter that does not answer in time, or says it is overloaded, is a fast 503: never a hang. */
export const LIMITER_TIMEOUT_MS = 5_000;

export async function bounded<T>(call: Promise<T>, target: { kind: string; id: string }, timeoutMs = LIMITER_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } catch (err) {
    const overloaded = err instanceof Error && ((err as { overloaded?: boolean }).overloaded || err.message === 'timeout');
    log.error(`limiter ${target.kind}:${loggedKey(target.id)} failed:`, err instanceof Error ? err.message : String(err));
    throw new GatewayError(
      overloaded ? `Rate limiter for ${target.kind} is overloaded; retry shortly` : `Rate limiter for ${target.kind} is unavailable; retry shortly`,
      { status: 503, type: 'service_unavailable', retryable: true, headers: { 'retry-after': '1' } },
    );
  } finally {
    if (timer) clearTimeout(timer);
  }
}
