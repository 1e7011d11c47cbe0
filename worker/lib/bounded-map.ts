/**
 * The per-isolate memos that remember an answer for a while (a role, a refusal, an unanswered destination, a
 * mapping) all need the same two things: an entry that stops counting after its own TTL, and a bound on how many
 * keys a flood of distinct callers can leave behind. One helper, so each memo states only its TTL and its cap.
 */
import { writeCapped } from '../telemetry/metrics/capped-state.ts';

/**
 * A map of at most `max` keys whose entries each count until their own deadline. When full, the key written
 * longest ago goes (writeCapped: a re-written key moves to the end), so a steady caller's entry outlives one-off
 * keys. An expired entry is not removed on read: it only stops being returned, and a write or the cap replaces it.
 */
export class BoundedTtlMap<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #max: number;

  /** `max`: the most keys kept (at least one). */
  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  /** The value kept under `key` while `now` is before its deadline, else undefined. */
  get(key: string, now: number = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && now < entry.until ? entry.value : undefined;
  }

  /** Keeps `value` under `key` for `ttlMs` from `now`, making room by dropping the key written longest ago. */
  set(key: string, value: V, ttlMs: number, now: number = Date.now()): void {
    writeCapped(this.#entries, key, { value, until: now + ttlMs }, this.#max);
  }

  /** Forgets `key` (true when it was kept, live or not). */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** How many keys are kept, expired ones included (tests). */
  get size(): number {
    return this.#entries.size;
  }
}
