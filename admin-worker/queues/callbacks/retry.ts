/**
 * Wait before each retry of a callback message (its attempts so far →
 * seconds). With `max_retries = 5` (admin-worker/wrangler.toml) a message
 * waits through about 70 minutes of Langfuse being down, then goes to the
 * dead-letter queue `tollgate-callbacks-dlq`, where it stays until replayed.
 */
export const RETRY_DELAYS_S = [2, 30, 120, 600, 3600] as const;

export function retryDelay(attempts: number): number {
  return RETRY_DELAYS_S[Math.min(Math.max(Math.floor(attempts), 1), RETRY_DELAYS_S.length) - 1] as number;
}
