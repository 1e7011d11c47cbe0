/**
 * How many never-seen access tokens may be asked about at the OIDC UserInfo endpoint (oidc-userinfo.ts): every new
 * random credential a stranger sends would otherwise cost one call to the identity provider. Two token buckets per
 * isolate: one for the whole gateway instance, and one per client address where the gateway knows it
 * (client-ip.ts: CF-Connecting-IP on Cloudflare, X-Forwarded-For with `use_x_forwarded_for`), so one client cannot
 * spend the whole budget. A token already known (its identity cached, or its refusal remembered) costs nothing.
 */

/** The whole instance: 20 new tokens a second, with a burst of 50. */
export const INSTANCE_RATE = { perSecond: 20, burst: 50 } as const;
/** One client address: 5 new tokens a second, with a burst of 10. */
export const CLIENT_RATE = { perSecond: 5, burst: 10 } as const;
/** The most client addresses tracked per isolate; when full, the oldest half goes (they start again full). */
const MAX_CLIENTS = 10_000;

interface Bucket { tokens: number; at: number }

function refill(bucket: Bucket, rate: { perSecond: number; burst: number }, now: number): Bucket {
  const tokens = Math.min(rate.burst, bucket.tokens + Math.max(0, now - bucket.at) * rate.perSecond / 1000);
  return { tokens, at: now };
}

export class UserInfoBudget {
  #instance: Bucket = { tokens: INSTANCE_RATE.burst, at: 0 };
  readonly #clients = new Map<string, Bucket>();

  /**
   * Spends one call on a never-seen token from `client` (its address, when known): false when the instance's or
   * the client's bucket is empty, and then neither is spent, so a refused client does not drain the instance's.
   */
  take(client: string | undefined, now = Date.now()): boolean {
    const instance = refill(this.#instance, INSTANCE_RATE, now);
    const mine = client === undefined ? undefined : refill(this.#clients.get(client) ?? { tokens: CLIENT_RATE.burst, at: now }, CLIENT_RATE, now);
    this.#instance = instance;
    if (instance.tokens < 1 || (mine && mine.tokens < 1)) {
      if (client !== undefined && mine) this.#keep(client, mine);
      return false;
    }
    instance.tokens -= 1;
    if (client !== undefined && mine) {
      mine.tokens -= 1;
      this.#keep(client, mine);
    }
    return true;
  }

  #keep(client: string, bucket: Bucket): void {
    if (!this.#clients.has(client) && this.#clients.size >= MAX_CLIENTS) {
      let drop = Math.ceil(this.#clients.size / 2);
      for (const old of this.#clients.keys()) {
        if (drop-- <= 0) break;
        this.#clients.delete(old);
      }
    }
    this.#clients.set(client, bucket);
  }
}
