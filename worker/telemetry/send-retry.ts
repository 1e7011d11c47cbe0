/** A Queue send that fails is tried again after 100 ms, 400 ms and 1.6 s (well inside `waitUntil`'s 30 s). */
export const SEND_ATTEMPTS = 4;
const SEND_RETRY_MS = 100;

/**
 * Runs `send` until it succeeds or has failed SEND_ATTEMPTS times; answers
 * the last error then (undefined on success). Never throws. The records of a
 * failed send are not on the Queue, so sending them again is safe; a
 * consumer that sees a record twice ignores it by request_id anyway.
 */
export async function sendWithRetry(send: () => Promise<unknown>): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return undefined;
    } catch (err) {
      if (attempt >= SEND_ATTEMPTS) return err ?? new Error('send failed');
      await new Promise((resolve) => setTimeout(resolve, SEND_RETRY_MS * 4 ** (attempt - 1)));
    }
  }
}
