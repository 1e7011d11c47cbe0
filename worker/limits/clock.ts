/**
 * The limiters' clock. Tests move it forward to cross budget windows and
 * refill buckets without waiting; only a Worker with TOLLGATE_TEST_MODE set
 * exposes the route that does (see routes/test-clock.ts). The gateway and
 * its Durable Objects share one isolate, hence one offset.
 */
let offsetMs = 0;

export function now(): number {
  return Date.now() + offsetMs;
}

export function setClockOffset(ms: number): void {
  offsetMs = ms;
}
