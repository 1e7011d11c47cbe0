/**
 * The proxy-admin answer for a key, kept a short while per isolate (task-owners.ts): a key probing task ids that
 * are not its own would otherwise cost one Postgres connection per refused request. Bounded, and short-lived, so a
 * role changed on the admin API holds here within ADMIN_ROLE_TTL_MS.
 */

/** How long one answer is kept. */
export const ADMIN_ROLE_TTL_MS = 30_000;
/** Keys remembered at most per isolate; the oldest goes first. */
export const ADMIN_ROLE_ENTRIES_MAX = 1_000;

const answers = new Map<string, { admin: boolean; until: number }>();

/**
 * Whether the key `cacheKey` names is a proxy admin: the kept answer while it lives, else `lookup`'s (kept from
 * then on). A lookup that throws keeps nothing: the next request asks again.
 */
export async function proxyAdminCached(cacheKey: string, lookup: () => Promise<boolean>, now: () => number = Date.now): Promise<boolean> {
  const kept = answers.get(cacheKey);
  if (kept && kept.until > now()) return kept.admin;
  const admin = await lookup();
  answers.delete(cacheKey);
  if (answers.size >= ADMIN_ROLE_ENTRIES_MAX) answers.delete(answers.keys().next().value as string);
  answers.set(cacheKey, { admin, until: now() + ADMIN_ROLE_TTL_MS });
  return admin;
}

/** How many answers are kept (tests). */
export const keptAdminRoles = (): number => answers.size;
