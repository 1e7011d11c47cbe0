/**
 * The object side of deployment affinity (affinity.ts): which deployment of a model group a session, a
 * virtual key or a cached prompt prefix is pinned to, until when. One table lives in each group's
 * DeploymentHealth object, in memory: a pin is a routing hint, so one lost with its object only costs the
 * next call a cache miss at the provider, as a LiteLLM proxy restarting without Redis loses them.
 */
import { PRODUCED_MAX, REPLAYED_MAX } from './encrypted-affinity.ts';

/** Session, prompt and key pins a group's object keeps at most; past it, the oldest (by last pinning) go first. */
export const MAX_PINS = 50_000;
/**
 * Encrypted items' pins (`e:`, encrypted-affinity.ts) kept at most, apart from the others: an agent's tool-call
 * turns pin one item each, so a busy tenant's items must not evict other tenants' session pins.
 */
export const MAX_ENCRYPTED_PINS = 50_000;
/** Pins a call has besides encrypted items': its session's, its cached prompt's and its key's (affinity.ts pinsFor). */
const OTHER_PINS = 3;
/** Keys one lookup answers at most: a call's replayed encrypted items and its other pins, every one of them. */
export const LOOKUP_MAX = REPLAYED_MAX + OTHER_PINS;
/** Pins one call sets at most: an answer's produced items (itemPinner), or a served call's replayed items and other pins (pinServed). */
export const PIN_MAX = Math.max(PRODUCED_MAX, REPLAYED_MAX + OTHER_PINS);
/** How often a full table sweeps its expired pins (a pass over every pin). */
const SWEEP_EVERY_MS = 10_000;

export interface Pin {
  key: string;
  deploymentId: string;
  ttlMs: number;
}

type Table = Map<string, [string, number]>;

export class AffinityTable {
  /** key → [deployment id, expiry (ms epoch)], in the order they were last pinned: encrypted items' apart (MAX_ENCRYPTED_PINS). */
  #pins: Table = new Map();
  #encrypted: Table = new Map();
  #sweptAt = 0;

  #tableOf(key: string): Table {
    return key.startsWith('e:') ? this.#encrypted : this.#pins;
  }

  /** The deployment each key is pinned to, null where none is (or the pin has expired). */
  lookup(keys: readonly string[], now: number): (string | null)[] {
    return keys.map((key) => {
      const table = this.#tableOf(key);
      const pin = table.get(key);
      if (!pin) return null;
      if (pin[1] <= now) {
        table.delete(key);
        return null;
      }
      return pin[0];
    });
  }

  /**
   * One call's lookup, as the group's object answers it (health-object.ts): its first LOOKUP_MAX keys, every key
   * any call sends, bounded against a hostile caller (a shorter answer is no miss: affinity.ts).
   */
  lookupForCall(keys: readonly string[], now: number): (string | null)[] {
    return this.lookup(keys.slice(0, LOOKUP_MAX), now);
  }

  /** One call's pins, as the group's object takes them: its first PIN_MAX, every pin any call sets. */
  pinForCall(pins: readonly Pin[], now: number): void {
    this.pin(pins.slice(0, PIN_MAX), now);
  }

  /** Pins each key to its deployment for its TTL from now (LiteLLM's pins slide: each call served renews them). */
  pin(pins: readonly Pin[], now: number): void {
    for (const { key, deploymentId, ttlMs } of pins) {
      if (!(ttlMs > 0)) continue;
      const table = this.#tableOf(key);
      table.delete(key);
      table.set(key, [deploymentId, now + ttlMs]);
    }
    if (this.#pins.size <= MAX_PINS && this.#encrypted.size <= MAX_ENCRYPTED_PINS) return;
    // Expired pins are swept at most every SWEEP_EVERY_MS (a full pass); otherwise the least lately pinned go.
    if (now - this.#sweptAt >= SWEEP_EVERY_MS) {
      this.#sweptAt = now;
      for (const table of [this.#pins, this.#encrypted]) for (const [key, [, until]] of table) if (until <= now) table.delete(key);
    }
    for (const [table, max] of [[this.#pins, MAX_PINS], [this.#encrypted, MAX_ENCRYPTED_PINS]] as const) {
      for (const key of table.keys()) {
        if (table.size <= max) break;
        table.delete(key);
      }
    }
  }

  get size(): number {
    return this.#pins.size + this.#encrypted.size;
  }
}
