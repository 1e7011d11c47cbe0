/**
 * The object side of deployment affinity (affinity.ts): which deployment of a model group a session, a
 * virtual key or a cached prompt prefix is pinned to, until when. One table lives in each group's
 * DeploymentHealth object, in memory: a pin is a routing hint, so one lost with its object only costs the
 * next call a cache miss at the provider, as a LiteLLM proxy restarting without Redis loses them.
 */

/** Pins a group's object keeps at most; past it, the oldest (by last pinning) go first. */
export const MAX_PINS = 50_000;
/** How often a full table sweeps its expired pins (a pass over every pin). */
const SWEEP_EVERY_MS = 10_000;

export interface Pin {
  key: string;
  deploymentId: string;
  ttlMs: number;
}

export class AffinityTable {
  /** key → [deployment id, expiry (ms epoch)], in the order they were last pinned. */
  #pins = new Map<string, [string, number]>();
  #sweptAt = 0;

  /** The deployment each key is pinned to, null where none is (or the pin has expired). */
  lookup(keys: readonly string[], now: number): (string | null)[] {
    return keys.map((key) => {
      const pin = this.#pins.get(key);
      if (!pin) return null;
      if (pin[1] <= now) {
        this.#pins.delete(key);
        return null;
      }
      return pin[0];
    });
  }

  /** Pins each key to its deployment for its TTL from now (LiteLLM's pins slide: each call served renews them). */
  pin(pins: readonly Pin[], now: number): void {
    for (const { key, deploymentId, ttlMs } of pins) {
      if (!(ttlMs > 0)) continue;
      this.#pins.delete(key);
      this.#pins.set(key, [deploymentId, now + ttlMs]);
    }
    if (this.#pins.size <= MAX_PINS) return;
    // Expired pins are swept at most every SWEEP_EVERY_MS (a full pass); otherwise the least lately pinned go.
    if (now - this.#sweptAt >= SWEEP_EVERY_MS) {
      this.#sweptAt = now;
      for (const [key, [, until]] of this.#pins) if (until <= now) this.#pins.delete(key);
    }
    for (const key of this.#pins.keys()) {
      if (this.#pins.size <= MAX_PINS) break;
      this.#pins.delete(key);
    }
  }

  get size(): number {
    return this.#pins.size;
  }
}
