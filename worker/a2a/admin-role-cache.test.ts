// The proxy-admin answer kept per key (admin-role-cache.ts): a key probing other owners' tasks costs one role read
// per 30 s, not one Postgres connection per request.
import { describe, expect, it } from 'vitest';
import { ADMIN_ROLE_ENTRIES_MAX, ADMIN_ROLE_TTL_MS, keptAdminRoles, proxyAdminCached } from './admin-role-cache.ts';

describe('proxyAdminCached', () => {
  it('asks once per key while the answer lives, again after it, and never keeps a failure', async () => {
    let clock = 1_000;
    const now = () => clock;
    let reads = 0;
    const lookup = async () => { reads += 1; return false; };
    expect(await proxyAdminCached('k1', lookup, now)).toBe(false);
    expect(await proxyAdminCached('k1', lookup, now)).toBe(false);
    expect(reads).toBe(1);
    // Another key is its own answer.
    expect(await proxyAdminCached('k2', async () => true, now)).toBe(true);
    clock += ADMIN_ROLE_TTL_MS + 1;
    await proxyAdminCached('k1', lookup, now);
    expect(reads).toBe(2);
    await expect(proxyAdminCached('k3', async () => { throw new Error('db down'); }, now)).rejects.toThrow('db down');
    let later = 0;
    expect(await proxyAdminCached('k3', async () => { later += 1; return true; }, now)).toBe(true);
    expect(later).toBe(1);
  });

  it('keeps at most ADMIN_ROLE_ENTRIES_MAX answers', async () => {
    for (let i = 0; i < ADMIN_ROLE_ENTRIES_MAX + 50; i++) await proxyAdminCached(`bulk-${i}`, async () => false);
    expect(keptAdminRoles()).toBe(ADMIN_ROLE_ENTRIES_MAX);
  });
});
