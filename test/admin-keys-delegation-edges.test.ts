import { beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { chatAs, jwt, jwtConfigYaml, stack, useJwtStack } from './support/jwt-stack.ts';

/**
 * The edges of the delegated-key rule (worker/auth/delegation.ts), end to end: a key whose row is gone acts as
 * nobody, and `default_user_id` (what created_by holds for the master key's keys) can be no user's id, so no
 * user's keys can pass as the master key's. JWT auth is on with user_id_upsert, so a token can create its user.
 */

useJwtStack(() => jwtConfigYaml(true));
const { call, ok, rows } = adminClient(() => stack);

let tess: string;
beforeAll(async () => {
  // tess administers team-a; ann is a member of it.
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles) VALUES
    ('team-a', 'A', '[{"role":"admin","user_id":"tess"},{"role":"user","user_id":"ann"}]')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, user_email, teams) VALUES ('tess', 'internal_user', 'tess@example.com', '{team-a}'),
    ('ann', 'internal_user', 'ann@example.com', '{team-a}')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-z', 'Z')`);
  tess = await seedKey(stack.databaseUrl, { userId: 'tess', teamId: 'team-a' });
});

/** An error in the OpenAI envelope with `status` and `type`, whose message says `says`. */
function expectError(res: { status: number; body: Json }, status: number, type: string, says: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(res.body.error).toMatchObject({ type, code: String(status) });
  expect(res.body.error.message).toContain(says);
}

describe('a key whose row was deleted while its limiter still admits it', () => {
  it('is refused on the admin API with a 401, not taken for a legacy key acting as its user', async () => {
    // A key of tess's from before created_by was stored (null): it acts as tess, team-a's admin.
    const legacy = await seedKey(stack.databaseUrl, { userId: 'tess', teamId: 'team-a' });
    expect((await ok('/team/member_add', { team_id: 'team-a', member: { role: 'user', user_id: 'before-delete' } }, legacy)).updated_users).toHaveLength(1);
    // Its row goes (as a committed /key/delete whose limiter reload failed): the limiter still admits it on the gateway...
    await rows('DELETE FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(legacy)]);
    expect((await chatAs(stack, legacy)).status).toBe(200);
    // ...but on the admin API it is nobody: no team admin's powers, nothing written.
    expectError(await call('/team/member_add', { team_id: 'team-a', member: { role: 'user', user_id: 'after-delete' } }, legacy),
      401, 'token_not_found_in_db', 'Invalid proxy server token passed');
    expectError(await call('/user/info', undefined, legacy), 401, 'token_not_found_in_db', 'Unable to find token');
    expect(await rows(`SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = 'after-delete'`)).toEqual([]);
    // A live key of the same user is unaffected.
    expect((await ok('/user/info', undefined, tess)).user_id).toBe('tess');
  });
});

describe('default_user_id, the master key\'s created_by', () => {
  it('is refused (400) as the id of a user /team/member_add, /organization/member_add, /team/new or /user/new would add', async () => {
    // The sequence the reviewer found: a team admin adds default_user_id with its own email, for its JWT to act as.
    expectError(await call('/team/member_add', { team_id: 'team-a', member: { role: 'user', user_id: 'default_user_id', user_email: 'tess@example.com' } }, tess),
      400, 'bad_request_error', 'user_id=default_user_id is reserved');
    expectError(await call('/team/member_add', { team_id: 'team-a', member: [{ role: 'user', user_id: 'fine' }, { role: 'user', user_id: 'default_user_id' }] }),
      400, 'bad_request_error', 'is reserved');
    expectError(await call('/organization/member_add', { organization_id: 'org-z', member: { role: 'internal_user', user_id: 'default_user_id' } }),
      400, 'bad_request_error', 'is reserved');
    expectError(await call('/team/new', { team_id: 'team-r', members_with_roles: [{ role: 'admin', user_id: 'default_user_id' }] }), 400, 'bad_request_error', 'is reserved');
    const res = await call('/user/new', { user_id: 'default_user_id', user_role: 'proxy_admin' });
    expectError(res, 400, 'bad_request_error', 'is reserved');
    expect(res.body.error.param).toBe('user_id');
    // Nothing was written.
    expect(await rows(`SELECT user_id FROM "LiteLLM_UserTable" WHERE user_id IN ('default_user_id', 'fine')`)).toEqual([]);
    expect(await rows(`SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_id = 'team-r'`)).toEqual([]);
    expect(await rows(`SELECT 1 FROM "LiteLLM_OrganizationMembership"`)).toEqual([]);
    expect((await rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'team-a'`))[0]?.members_with_roles).toHaveLength(3);
  });

  it('is not created by a JWT under user_id_upsert, while another new id is', async () => {
    const refused = await chatAs(stack, jwt({ sub: 'default_user_id', email: 'someone@example.com' }));
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ type: 'bad_request_error', param: 'user_id' });
    expect(refused.error?.message).toContain('user_id=default_user_id is reserved');
    expect((await chatAs(stack, jwt({ sub: 'newcomer', email: 'newcomer@example.com' }))).status).toBe(200);
    expect(await rows(`SELECT user_id FROM "LiteLLM_UserTable" WHERE user_id IN ('default_user_id', 'newcomer')`)).toEqual([{ user_id: 'newcomer' }]);
  });

  it('marks a key as the master key\'s only while no user row has that id', async () => {
    const marked = await seedKey(stack.databaseUrl, { userId: 'ann', teamId: 'team-a' });
    await rows(`UPDATE "LiteLLM_VerificationToken" SET created_by = 'default_user_id' WHERE token = $1`, [sha256(marked)]);
    expect((await ok('/user/info?user_id=ann', undefined, marked)).user_id).toBe('ann');
    // A user row with the id (made before it was reserved): its keys would carry the marker too, so it is not trusted.
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, user_email) VALUES ('default_user_id', 'internal_user', 'tess@example.com')`);
    try {
      const res = await call('/user/info?user_id=ann', undefined, marked);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.message).toContain('not allowed to view user=ann');
    } finally {
      await rows(`DELETE FROM "LiteLLM_UserTable" WHERE user_id = 'default_user_id'`);
    }
    expect((await ok('/user/info?user_id=ann', undefined, marked)).user_id).toBe('ann');
  });
});
