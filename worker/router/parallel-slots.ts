/**
 * Calls in flight, counted for caps shared by every isolate: a deployment's
 * `max_parallel_requests` (router_settings.default_max_parallel_requests when it
 * sets none) and the proxy's `global_max_parallel_requests`. One table lives in a
 * model group's DeploymentHealth object (its deployments' slots) and one in the
 * object named GLOBAL_SLOTS_OBJECT (the proxy's). Kept in memory: the isolate
 * holding a slot renews it every SLOT_RENEW_MS, so a slot whose isolate died is
 * free again SLOT_TTL_MS later, and a restarted object learns its slots back
 * from those renewals.
 */

/** A slot not renewed for this long is free again: its isolate died (or lost the object) with the call in flight. */
export const SLOT_TTL_MS = 30_000;
/** How often an isolate renews the slots its calls hold. */
export const SLOT_RENEW_MS = 10_000;

/** One cap to take a slot of: its name (a deployment id, or GLOBAL_SLOT) and how many calls it lets in at once. */
export interface SlotCap {
  slot: string;
  limit: number;
}

interface Waiter {
  caps: SlotCap[];
  holder: string;
  done(slot: string | null): void;
}

export class SlotTable {
  /** Per slot: holder → the time its hold ends unless renewed. */
  #held = new Map<string, Map<string, number>>();
  /** Calls waiting for a slot, first come first served. */
  #waiters: Waiter[] = [];

  /**
   * Takes a slot of the first cap (in the order given) with room for `holder`; when none has room,
   * waits up to `waitMs` for one to be freed. Answers the slot taken, or null.
   */
  take(caps: SlotCap[], holder: string, waitMs: number, now: number): Promise<string | null> {
    for (const cap of caps) if (this.#tryTake(cap, holder, now)) return Promise.resolve(cap.slot);
    if (!(waitMs > 0)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = { caps, holder, done: resolve };
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        resolve(null);
      }, waitMs);
      waiter.done = (slot) => {
        clearTimeout(timer);
        resolve(slot);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Gives a slot back (idempotent), and hands the room to the first call waiting for it. */
  free(slot: string, holder: string, now: number): void {
    if (this.#held.get(slot)?.delete(holder)) this.#wake(now);
  }

  /**
   * Extends held slots. A hold this table does not know (the object restarted, or the hold had expired
   * while its isolate was busy) is taken back as it is: the call is in flight, whatever the cap says.
   */
  renew(holds: { slot: string; holder: string }[], now: number): void {
    for (const { slot, holder } of holds) {
      let holders = this.#held.get(slot);
      if (!holders) this.#held.set(slot, (holders = new Map()));
      holders.set(holder, now + SLOT_TTL_MS);
    }
  }

  /** Calls in flight on a slot (expired holds swept). */
  inFlight(slot: string, now: number): number {
    const holders = this.#held.get(slot);
    if (!holders) return 0;
    let swept = false;
    for (const [holder, until] of holders) {
      if (until <= now) {
        holders.delete(holder);
        swept = true;
      }
    }
    if (!holders.size) this.#held.delete(slot);
    if (swept) queueMicrotask(() => this.#wake(now));
    return holders.size;
  }

  #tryTake(cap: SlotCap, holder: string, now: number): boolean {
    if (this.inFlight(cap.slot, now) >= cap.limit) return false;
    let holders = this.#held.get(cap.slot);
    if (!holders) this.#held.set(cap.slot, (holders = new Map()));
    holders.set(holder, now + SLOT_TTL_MS);
    return true;
  }

  #wake(now: number): void {
    for (let i = 0; i < this.#waiters.length; i++) {
      const waiter = this.#waiters[i]!;
      const cap = waiter.caps.find((c) => this.#tryTake(c, waiter.holder, now));
      if (!cap) continue;
      this.#waiters.splice(i--, 1);
      waiter.done(cap.slot);
    }
  }
}
