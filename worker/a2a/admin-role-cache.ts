/**
 * The proxy-admin answer for a key, kept a short while per isolate (cachedProxyAdmin in auth/admin-only-routes.ts,
 * for A2A tasks and /prompts/test): a key probing task ids that are not its own, or /prompts/test, would otherwise
 * cost one Postgres connection per refused request. Bounded, and short-lived, so a
 * role changed on the admin API holds here within ADMIN_ROLE_TTL_MS.
 */
import { BoundedTtlMap } from '../lib/bounded-map.ts';

/** How long one answer is kept. */
export const ADMIN_ROLE_TTL_MS = 30_000;
/** Keys remembered at most per isolate; the oldest goes first. */
export const ADMIN_ROLE_ENTRIES_MAX = 1_000;

const answers = new BoundedTtlMap<boolean>(ADMIN_ROLE_ENTRIES_MAX);

/**
 * Whether the key `cacheKey` names is a proxy admin: the kept answer while it lives, else `lookup`'s (kept from
 * then on). A lookup that throws keeps nothing: the next request asks again.
 */
export async function proxyAdminCached(cacheKey: string, lookup: () => Promise<boolean>, now: () => number = Date.now): Promise<boolean> {
  const kept = answers.get(cacheKey, now());
  if (kept !== undefined) return kept;
  const admin = await lookup();
  answers.set(cacheKey, admin, ADMIN_ROLE_TTL_MS, now());
  return admin;
}

/** How many answers are kept (tests). */
export const keptAdminRoles = (): number => answers.size;
