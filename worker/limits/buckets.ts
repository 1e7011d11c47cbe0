/** A token bucket: `level` tokens at time `at` (epoch ms). */
export interface Bucket {
  level: number;
  at: number;
}

const MINUTE_MS = 60_000;

/**
 * The bucket refilled up to `now`: a per-minute limit refills continuously
 * at limit/60 s, up to a full minute's worth. A bucket starts full, so a
 * burst of exactly `limit` requests is admitted at once (LiteLLM's fixed
 * window lets a burst of `limit` through too), and not one more.
 */
export function refill(bucket: Bucket | undefined, limit: number, now: number): Bucket {
  if (!bucket) return { level: limit, at: now };
  const level = Math.min(limit, bucket.level + ((now - bucket.at) / MINUTE_MS) * limit);
  return { level, at: now };
}

/** Milliseconds until the bucket holds `need` tokens again. */
export function msUntil(bucket: Bucket, limit: number, need: number): number {
  if (bucket.level >= need) return 0;
  return Math.ceil(((need - bucket.level) / limit) * MINUTE_MS);
}
