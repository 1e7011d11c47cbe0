import { pgCode } from '../../worker/db/pg-code.ts';
import { GatewayError } from '../../worker/errors.ts';
import { log } from '../../worker/telemetry/log.ts';

export { pgCode };

/**
 * A value Postgres could not take (class 22, data exception: a NUL in a text,
 * a number out of range, ...) came from the request: a 400 naming Postgres's
 * reason, not a 500. The statement failed, so nothing was written.
 */
export function badValueError(err: unknown): GatewayError | undefined {
  if (!pgCode(err)?.startsWith('22')) return undefined;
  let reason = '';
  for (let e: unknown = err, depth = 0; e && depth < 4 && !reason; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code !== undefined && e instanceof Error) reason = e.message;
  }
  return new GatewayError(`Invalid value in the request: ${reason.slice(0, 200)}`, { status: 400, type: 'bad_request_error' });
}

/**
 * Why one item of a bulk change failed, for its answer: a refusal's message, a bad value's 400 reason, or
 * (Postgres gone, ...) an internal error, logged. The items done before it stay done.
 */
export function failureReason(err: unknown, what: string): string {
  const known = err instanceof GatewayError ? err : badValueError(err);
  if (known) return known.message;
  log.error(`${what} failed:`, err instanceof Error ? err.message : String(err));
  return 'Internal error: the update could not be written';
}
