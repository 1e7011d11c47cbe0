/**
 * What /health/services says of a standard logger's refusal: its class (credentials refused, destination error,
 * unreachable, ...) and the poster's reason with every secret the admin Worker holds for a logger taken out, since
 * a destination may echo a header, and a network error may quote the URL (a token in its query).
 */
import { scrubbed, secretsOf } from '../queues/callbacks/loggers/secrets.ts';
import type { LoggerEnv } from '../queues/callbacks/loggers/types.ts';

/** What kind of failure a poster's reason is, for the operator, before its (scrubbed) detail. */
export function failureClass(reason: string, retry: boolean): string {
  const status = Number(/^HTTP (\d{3})/.exec(reason)?.[1]);
  if (status === 401 || status === 403 || status === 407) return 'credentials refused';
  if (status === 404) return 'destination not found';
  if (status === 429) return 'rate limited';
  if (status >= 500) return 'destination error';
  if (status >= 300 && status < 400) return 'redirected';
  if (status) return retry ? 'refused' : 'test payload refused';
  if (/^no access token/.test(reason)) return 'credentials refused';
  if (/^no answer within/.test(reason)) return 'timed out';
  if (/^unreachable|could not be made/.test(reason)) return 'unreachable';
  return 'failed';
}

/** `(<class>): <reason>`, the reason scrubbed of the logger's secrets (secrets.ts), then cut to 300 characters. */
export function refusalDetail(result: { reason: string; retry: boolean; cut?: boolean }, env: LoggerEnv, params: Record<string, unknown> | undefined): string {
  return `(${failureClass(result.reason, result.retry)}): ${scrubbed(result.reason, secretsOf(env, params), 300, result.cut)}`;
}
