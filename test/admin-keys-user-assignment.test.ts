import { beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type Json } from './support/admin.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { chatAs, jwt, jwtConfigYaml, stack, useJwtStack } from './support/jwt-stack.ts';

/**
 * Keys a team admin gives other users, end to end through the admin Worker and the gateway. Such a key is
 * delegated (admin-worker/lib/auth.ts): it calls models as its user, but in the admin API it is no user, so
 * a team admin who adds an existing user to its team and keys them cannot read that user's prompts or keys,
 * nor act as the admin of that user's other teams and organizations. JWT auth is on (user_id_upsert), so a
 * user can really arrive after the team admin keyed their id.
 */

useJwtStack(() => jwtConfigYaml(true));
const { call, ok, rows, keyRow } = adminClient(() => stack);

let tess: string;
let xavier: string;
let xaviersPersonal: string;
beforeAll(async () => {
  // tess administers team-a; xavier administers team-b and organization org-z, and has a personal key with a logged prompt.
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members, members_with_roles) VALUES
    ('team-a', 'A', '{ghost}', '{phantom,ghost}', '[{"role":"admin","user_id":"tess"},{"role":"user","user_id":"ann"},{"role":"user","user_id":"ben"}]'),
    ('team-b', 'B', '{}', '{}', '[{"role":"admin","user_id":"xavier"}]')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, teams) VALUES ('tess', 'internal_user', '{team-a}'), ('ann', 'internal_user', '{team-a}'),
    ('ben', 'internal_user', '{team-a}'), ('ghost', 'internal_user', '{team-a}'), ('xavier', 'internal_user', '{team-b}'), ('root', 'proxy_admin', '{}')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-z', 'Z')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationMembership" (user_id, organization_id, user_role) VALUES ('xavier', 'org-z', 'org_admin')`);
  tess = await seedKey(stack.databaseUrl, { userId: 'tess', teamId: 'team-a' });
  xavier = await seedKey(stack.databaseUrl, { userId: 'xavier' });
  xaviersPersonal = await seedKey(stack.databaseUrl, { userId: 'xavier', alias: 'x-personal' });
  await rows(`INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, "startTime", "endTime", model, model_group, "user", messages)
    VALUES ('x-personal-call', 'acompletion', $1, 0.5, 3, now(), now(), 'mock-gpt', 'mock-gpt', 'xavier', '[{"role":"user","content":"secret plan"}]')`, [sha256(xaviersPersonal)]);
});

/** A 403 in the OpenAI error envelope whose message says `says`. */
function expectForbidden(res: { status: number; body: Json }, says: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(res.body.error).toMatchObject({ type: 'auth_error', code: '403' });
  expect(res.body.error.message).toContain(says);
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
/** The spend log rows `key` may read on the admin UI's logs page (today, give or take a day). */
const logIds = async (key: string) => (await ok(`/spend/logs/ui?start_date=${day(-1)}&end_date=${day(1)}`, undefined, key)).data.map((r: Json) => r.request_id);

describe('a key a team admin makes for an existing user (delegated)', () => {
  it('calls models as that user but reads none of its rows and takes none of its admin powers', async () => {
    // The sequence the reviewer found: tess adds xavier (an existing user, admin elsewhere) to her team and keys him.
    expect((await ok('/team/member_add', { team_id: 'team-a', member: { role: 'user', user_id: 'xavier' } }, tess)).members_with_roles).toHaveLength(4);
    const k = await ok('/key/generate', { team_id: 'team-a', user_id: 'xavier' }, tess);
    expect(k).toMatchObject({ team_id: 'team-a', user_id: 'xavier', created_by: 'tess' });

    // On the gateway it is xavier's key: the call is his in the spend log.
    const out = await chatAs(stack, k.key);
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await eventually(() => spendLogRow(stack.databaseUrl, out.callId ?? ''))).toMatchObject({ user: 'xavier', team_id: 'team-a' });

    // In the admin API it reads its own rows only: its call, not xavier's personal one (with its prompt).
    expect(await logIds(k.key)).toEqual([out.callId]);
    expect(await logIds(xavier)).toEqual(expect.arrayContaining([out.callId, 'x-personal-call']));
    expect((await ok(`/key/info?key=${encodeURIComponent(k.key)}`, undefined, k.key)).info).toMatchObject({ user_id: 'xavier', team_id: 'team-a' });
    expect((await ok('/key/info', undefined, k.key)).info).toMatchObject({ user_id: 'xavier', created_by: 'tess' });
    expect((await ok('/team/info?team_id=team-a', undefined, k.key)).team_id).toBe('team-a');
    expectForbidden(await call('/user/info?user_id=xavier', undefined, k.key), 'not allowed to view user=xavier');
    expect((await call('/user/info', undefined, k.key)).status).toBe(400);
    expectForbidden(await call('/key/list?user_id=xavier', undefined, k.key), 'can list keys');
    expectForbidden(await call(`/key/info?key=${encodeURIComponent(xaviersPersonal)}`, undefined, k.key), '');

    // None of xavier's powers: team-b's admin, org-z's admin, his own keys and user row.
    expectForbidden(await call('/key/generate', { team_id: 'team-b', user_id: 'xavier' }, k.key), "Only proxy admins, or admins of the key's team");
    expectForbidden(await call('/team/member_add', { team_id: 'team-b', member: { role: 'admin', user_id: 'tess' } }, k.key), 'not proxy admin OR team admin');
    expect((await call('/organization/member_add', { organization_id: 'org-z', member: { role: 'org_admin', user_id: 'tess' } }, k.key)).status).toBe(403);
    expectForbidden(await call('/key/delete', { keys: [xaviersPersonal] }, k.key), 'delete keys');
    expectForbidden(await call('/user/update', { user_id: 'xavier', user_alias: 'pwned' }, k.key), 'Only PROXY_ADMIN can update other users');
    // Nothing changed.
    expect(await keyRow(sha256(xaviersPersonal))).toMatchObject({ user_id: 'xavier' });
    expect((await rows(`SELECT user_alias FROM "LiteLLM_UserTable" WHERE user_id = 'xavier'`))[0]?.user_alias).toBeNull();
    expect((await rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'team-b'`))[0]?.members_with_roles).toHaveLength(1);
    expect(await rows(`SELECT 1 FROM "LiteLLM_OrganizationMembership" WHERE user_id = 'tess'`)).toEqual([]);
    expect(await rows(`SELECT 1 FROM "LiteLLM_VerificationToken" WHERE team_id = 'team-b'`)).toEqual([]);
  });

  it('leaves keys a user makes itself, and keys a proxy admin makes for it, acting as that user', async () => {
    const own = await ok('/key/generate', { team_id: 'team-b' }, xavier);
    expect(own).toMatchObject({ user_id: 'xavier', created_by: 'xavier' });
    expect((await ok('/user/info', undefined, own.key)).user_id).toBe('xavier');
    expect((await ok('/key/generate', { team_id: 'team-b', key_alias: 'by-own' }, own.key)).created_by).toBe('xavier');
    const root = await seedKey(stack.databaseUrl, { userId: 'root' });
    const byRoot = await ok('/key/generate', { team_id: 'team-a', user_id: 'xavier' }, root);
    expect(byRoot.created_by).toBe('root');
    expect((await ok('/user/info?user_id=xavier', undefined, byRoot.key)).user_id).toBe('xavier');
    expect(await logIds(byRoot.key)).toContain('x-personal-call');
    const byMaster = await ok('/key/generate', { user_id: 'xavier' });
    expect(byMaster.created_by).toBe('default_user_id');
    expect((await ok('/user/info', undefined, byMaster.key)).user_id).toBe('xavier');
    // A team admin's own key made by itself stays its own: tess still administers team-a with it.
    const tessOwn = await ok('/key/generate', { team_id: 'team-a' }, tess);
    expect((await ok('/team/member_add', { team_id: 'team-a', member: { role: 'user', user_id: 'made-by-tess' } }, tessOwn.key)).updated_users).toHaveLength(1);
  });

  it('becomes delegated when a team admin gives a proxy admin\'s key to another member, or takes a new value for it', async () => {
    const forAnn = await ok('/key/generate', { team_id: 'team-a', user_id: 'ann' });
    expect((await ok('/user/info', undefined, forAnn.key)).user_id).toBe('ann');
    expect((await ok('/key/update', { key: forAnn.key, user_id: 'ben' }, tess)).user_id).toBe('ben');
    expect(await keyRow(sha256(forAnn.key))).toMatchObject({ user_id: 'ben', created_by: 'tess', updated_by: 'tess' });
    expectForbidden(await call('/user/info?user_id=ben', undefined, forAnn.key), 'not allowed to view user=ben');

    const forBen = await ok('/key/generate', { team_id: 'team-a', user_id: 'ben' });
    expect((await ok('/user/info?user_id=ben', undefined, forBen.key)).user_id).toBe('ben');
    const rotated = await ok('/key/regenerate', { key: forBen.key, grace_period: '1h' }, tess);
    expect(await keyRow(sha256(rotated.key))).toMatchObject({ user_id: 'ben', created_by: 'tess' });
    expectForbidden(await call('/user/info?user_id=ben', undefined, rotated.key), 'not allowed to view user=ben');
    // The old value, still good for its grace period, is the same (now delegated) key.
    expect((await chatAs(stack, forBen.key)).status).toBe(200);
    expectForbidden(await call('/user/info?user_id=ben', undefined, forBen.key), 'not allowed to view user=ben');
    // A proxy admin's change leaves created_by as it was.
    const again = await ok('/key/generate', { team_id: 'team-a', user_id: 'ann' });
    await ok('/key/update', { key: again.key, user_id: 'ben' });
    expect(await keyRow(sha256(again.key))).toMatchObject({ user_id: 'ben', created_by: 'default_user_id' });
  });
});

describe('whom a team admin may key', () => {
  it('adds users that do not exist yet (as LiteLLM does) and keys them, delegated: whoever arrives with the id later is not read', async () => {
    const added = await ok('/team/member_add', { team_id: 'team-a', member: [{ role: 'user', user_id: 'new-hire' }, { role: 'user', user_email: 'fresh@example.com' }] }, tess);
    expect(added.updated_users.map((u: Json) => u.user_id)).toContain('new-hire');
    expect(await rows(`SELECT user_id FROM "LiteLLM_UserTable" WHERE user_id = 'new-hire' OR user_email = 'fresh@example.com'`)).toHaveLength(2);
    const k = await ok('/key/generate', { team_id: 'team-a', user_id: 'new-hire' }, tess);
    // The person arrives (a JWT as new-hire) and makes a call logged to them; tess's key reads none of it.
    const out = await chatAs(stack, jwt({ sub: 'new-hire', email: 'new-hire@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    await eventually(() => spendLogRow(stack.databaseUrl, out.callId ?? ''));
    expect(await logIds(k.key)).toEqual([]);
    expectForbidden(await call('/user/info?user_id=new-hire', undefined, k.key), 'not allowed to view user=new-hire');
  });

  it('refuses an id that is no member, a legacy-list id with no user row, a deleted user, and a proxy admin', async () => {
    expectForbidden(await call('/key/generate', { team_id: 'team-a', user_id: 'stranger' }, tess),
      "A key's user_id must be your own (tess) or a member's of the key's team (team_id=team-a), and not a proxy admin's: got user_id=stranger");
    // phantom is in team-a's legacy `members` but has no user row.
    expectForbidden(await call('/key/generate', { team_id: 'team-a', user_id: 'phantom' }, tess), 'got user_id=phantom');
    // ghost is in team-a's legacy `admins` and `members`: keyable until a proxy admin deletes the user.
    expect((await ok('/key/generate', { team_id: 'team-a', user_id: 'ghost' }, tess)).user_id).toBe('ghost');
    expect(await ok('/user/delete', { user_ids: ['ghost'] })).toBe(1);
    expect((await rows(`SELECT admins, members FROM "LiteLLM_TeamTable" WHERE team_id = 'team-a'`))[0]).toEqual({ admins: [], members: ['phantom'] });
    expectForbidden(await call('/key/generate', { team_id: 'team-a', user_id: 'ghost' }, tess), 'got user_id=ghost');
    expect(await rows(`SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = 'ghost'`)).toEqual([]);
    await ok('/team/member_add', { team_id: 'team-a', member: { role: 'user', user_id: 'root' } });
    expectForbidden(await call('/key/generate', { team_id: 'team-a', user_id: 'root' }, tess), 'got user_id=root');
    expect(await rows(`SELECT 1 FROM "LiteLLM_VerificationToken" WHERE user_id IN ('stranger', 'phantom', 'ghost') OR (user_id = 'root' AND created_by = 'tess')`)).toEqual([]);
  });
});
