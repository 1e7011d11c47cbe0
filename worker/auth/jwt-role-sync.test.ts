import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../db/client.ts';
import { JwtRoleSync, MAX_SYNCED_TEAMS, OUTAGE_MS, syncedTeams } from './jwt-role-sync.ts';
import { jwtToken } from './jwt-subject.ts';

// sync_user_role_and_teams (jwt-role-sync.ts) with a database that fails the way an unreachable one does: the
// end-to-end behaviour with a real Postgres is in test/jwt-role-sync.test.ts.

const settings = { user_id_jwt_field: 'sub', team_ids_jwt_field: 'groups', sync_user_role_and_teams: true, user_id_upsert: true };
const callerFor = (user: string) => ({ admin: false, token: jwtToken({ teamId: null, userId: user, orgId: null }), userRole: 'proxy_admin' as const });

/** A sync whose every query fails with `error`, counting the times it opens the database. */
function failingSync(error: () => Error) {
  const opened = { count: 0 };
  const open = (): Database => {
    opened.count++;
    const pool = { query: () => Promise.reject(error()), connect: () => Promise.reject(error()) };
    return { pool, db: {}, close: async () => undefined } as unknown as Database;
  };
  return { sync: new JwtRoleSync({ DATABASE_URL: 'postgres://unreachable.invalid/db' }, settings, async () => undefined, open), opened };
}

afterEach(() => vi.restoreAllMocks());

describe('sync_user_role_and_teams with Postgres out of reach', () => {
  it('fails no call, logs once, and skips every token\'s sync for OUTAGE_MS instead of waiting out each connect', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sync, opened } = failingSync(() => new Error('timeout exceeded when trying to connect'));
    const start = 1_000_000;
    await expect(sync.sync({ sub: 'u1', groups: ['t'] }, settings, callerFor('u1'), start)).resolves.toBeUndefined();
    expect(opened.count).toBe(1);
    for (const user of ['u2', 'u3', 'u1']) await sync.sync({ sub: user, groups: ['t'] }, settings, callerFor(user), start + OUTAGE_MS - 1);
    expect(opened.count).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0])).toContain(`no user is synced by this isolate for ${OUTAGE_MS / 1000}s`);
    // Once the window is over, the next token tries again.
    await sync.sync({ sub: 'u2', groups: ['t'] }, settings, callerFor('u2'), start + OUTAGE_MS);
    expect(opened.count).toBe(2);
  });

  it('does not hold back other users when Postgres answers and refuses one user\'s query', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sync, opened } = failingSync(() => Object.assign(new Error('invalid byte sequence for encoding "UTF8"'), { code: '22021' }));
    await sync.sync({ sub: 'u1', groups: ['t'] }, settings, callerFor('u1'), 5_000);
    await sync.sync({ sub: 'u2', groups: ['t'] }, settings, callerFor('u2'), 5_001);
    expect(opened.count).toBe(2);
  });
});

describe('the teams a token syncs', () => {
  it('are its list\'s first distinct ids, at most MAX_SYNCED_TEAMS, the cap warned about once', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(syncedTeams(['a', 'b', 'a', '', null, 7])).toEqual(['a', 'b', '7']);
    expect(syncedTeams('solo')).toEqual(['solo']);
    const many = Array.from({ length: 10_000 }, (_, i) => `team-${i}`);
    expect(syncedTeams(many)).toEqual(many.slice(0, MAX_SYNCED_TEAMS));
    expect(syncedTeams(many)).toHaveLength(MAX_SYNCED_TEAMS);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0])).toContain(`only its first ${MAX_SYNCED_TEAMS} are synced`);
  });
});
