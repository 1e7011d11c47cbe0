import { afterEach, describe, expect, it, vi } from 'vitest';
import { SEND_ATTEMPTS, sendWithRetry } from './send-retry.ts';

/** A Queue producer's send that fails its first `failures` calls, then keeps what it is sent. */
function flakySend(failures: number) {
  const state = { calls: 0, delivered: 0 };
  const send = async () => {
    state.calls++;
    if (state.calls <= failures) throw new Error('Queue send failed: internal error');
    state.delivered++;
  };
  return { state, send };
}

afterEach(() => vi.useRealTimers());

describe('spend log sends', () => {
  it('are retried with backoff, so a passing Queue failure loses no record', async () => {
    vi.useFakeTimers();
    const { state, send } = flakySend(2);
    const started = Date.now();
    const done = sendWithRetry(send);
    await vi.runAllTimersAsync();
    expect(await done).toBeUndefined();
    expect(state).toEqual({ calls: 3, delivered: 1 });
    expect(Date.now() - started).toBe(100 + 400);
  });

  it('give up after four attempts and answer the error, never throwing', async () => {
    vi.useFakeTimers();
    const { state, send } = flakySend(10);
    const done = sendWithRetry(send);
    await vi.runAllTimersAsync();
    expect(String(await done)).toContain('Queue send failed');
    expect(state.calls).toBe(SEND_ATTEMPTS);
    expect(state.delivered).toBe(0);
  });
});
