import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, TEAM_FIELDS, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;
const { call, ok, rows, audits, count, chat } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('alice', 'internal_user'), ('carol', 'internal_user')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-1', 'Org One')`);
  await ok('/team/new', { team_id: 'team-dup' });
  await ok('/team/new', { team_id: 'team-admin-edit', members_with_roles: [{ role: 'admin', user_id: 'alice' }, { role: 'user', user_id: 'carol' }] });
  await ok('/team/new', { team_id: 'team-members', organization_id: 'org-1', members_with_roles: [{ role: 'admin', user_id: 'alice' }] });
});
afterAll(async () => stack?.stop());

describe('team members', () => {
  it('adds members (creating users, with a per-member budget) and removes them', async () => {
    await ok('/team/new', { team_id: 'team-m', members_with_roles: [{ role: 'admin', user_id: 'alice' }] });
    const body = await ok('/team/member_add', { team_id: 'team-m', member: [{ role: 'user', user_id: 'm-1' }, { role: 'user', user_id: 'carol' }], max_budget_in_team: 7 });
    expect(body).toMatchObject({ team_id: 'team-m', spend: 0 });
    expect(body.members_with_roles.map((m: Json) => m.user_id)).toEqual(['alice', 'm-1', 'carol']);
    expect(body.updated_users.map((u: Json) => [u.user_id, u.teams])).toEqual([['m-1', ['team-m']], ['carol', expect.arrayContaining(['team-m'])]]);
    expect(body.updated_users[0]).not.toHaveProperty('password');
    expect(body.updated_team_memberships).toEqual([
      expect.objectContaining({ team_id: 'team-m', user_id: 'm-1', spend: 0, litellm_budget_table: expect.objectContaining({ max_budget: 7 }) }),
      expect.objectContaining({ team_id: 'team-m', user_id: 'carol' }),
    ]);
    const again = await call('/team/member_add', { team_id: 'team-m', member: { role: 'user', user_id: 'm-1' } });
    expect(again.status).toBe(400);
    expect(again.body.error.type).toBe('team_member_already_in_team');
    expect((await call('/team/member_add', { team_id: 'team-m', member: { role: 'boss', user_id: 'z' } })).status).toBe(422);
    expect((await call('/team/member_add', { team_id: 'nope', member: { role: 'user', user_id: 'z' } })).status).toBe(404);
    expect((await call('/team/member_add', { team_id: 'team-m', member: { role: 'user', user_id: 'z' }, max_budget_in_team: -1 })).status).toBe(400);

    const info = await ok('/team/info?team_id=team-m');
    expect(info.team_memberships.map((m: Json) => m.user_id).sort()).toEqual(['carol', 'm-1']);

    const removed = await ok('/team/member_delete', { team_id: 'team-m', user_id: 'm-1' });
    expect(removed.members_with_roles.map((m: Json) => m.user_id)).toEqual(['alice', 'carol']);
    expect((await rows(`SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = 'm-1'`))[0]?.teams).toEqual([]);
    expect(await rows(`SELECT * FROM "LiteLLM_TeamMembership" WHERE user_id = 'm-1'`)).toEqual([]);
    expect((await call('/team/member_delete', { team_id: 'team-m', user_id: 'm-1' })).status).toBe(400);
    expect((await call('/team/member_delete', { team_id: 'team-m' })).status).toBe(400);
  });

  it('lets the team admin manage members of their team only', async () => {
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await ok('/team/member_add', { team_id: 'team-m', member: { role: 'user', user_id: 'by-alice' } }, alice)).members_with_roles).toHaveLength(3);
    expect((await ok('/team/member_delete', { team_id: 'team-m', user_id: 'by-alice' }, alice)).members_with_roles).toHaveLength(2);
    expect((await call('/team/member_add', { team_id: 'team-m', member: { role: 'admin', user_id: 'carol2' } }, carol)).status).toBe(403);
    expect((await call('/team/member_delete', { team_id: 'team-m', user_id: 'alice' }, carol)).status).toBe(403);
    expect((await call('/team/member_add', { team_id: 'team-dup', member: { role: 'user', user_id: 'x' } }, alice)).status).toBe(403);
  });

  it('member_update changes a member\'s role and budget in the team, and refuses a stranger', async () => {
    await ok('/team/new', { team_id: 'team-u', members_with_roles: [{ role: 'user', user_id: 'u-1' }] });
    const updated = await ok('/team/member_update', { team_id: 'team-u', user_id: 'u-1', role: 'admin', max_budget_in_team: 12 });
    expect(updated).toEqual({ team_id: 'team-u', user_id: 'u-1', user_email: null, role: 'admin', max_budget_in_team: 12 });
    const info = await ok('/team/info?team_id=team-u');
    expect(info.team_info.members_with_roles).toEqual([expect.objectContaining({ user_id: 'u-1', role: 'admin' })]);
    expect(info.team_info.admins).toContain('u-1');
    expect(info.team_memberships).toEqual([expect.objectContaining({ user_id: 'u-1', litellm_budget_table: expect.objectContaining({ max_budget: 12 }) })]);
    const back = await ok('/team/member_update', { team_id: 'team-u', user_id: 'u-1', role: 'user' });
    expect(back.role).toBe('user');
    expect((await ok('/team/info?team_id=team-u')).team_info.admins).not.toContain('u-1');
    expect((await call('/team/member_update', { team_id: 'team-u', user_id: 'nobody', role: 'admin' })).status).toBe(400);
    expect((await call('/team/member_update', { team_id: 'team-u', user_id: 'u-1', role: 'boss' })).status).toBe(422);
  });
});

describe('GET /team/info and /team/list', () => {
  it('shows a team with its keys and memberships to admins, its keys and its members', async () => {
    await ok('/team/new', { team_id: 'team-info', team_alias: 'info', members_with_roles: [{ role: 'user', user_id: 'carol' }] });
    const teamKey = await seedKey(stack.databaseUrl, { teamId: 'team-info', alias: 'k-info' });
    const body = await ok('/team/info?team_id=team-info');
    expect(Object.keys(body).sort()).toEqual(['keys', 'team_id', 'team_info', 'team_memberships']);
    expect(body.team_id).toBe('team-info');
    expect(Object.keys(body.team_info).sort()).toEqual([...TEAM_FIELDS, 'team_member_budget_table'].sort());
    expect(body.team_info).toMatchObject({ team_alias: 'info', spend: 0, team_member_budget_table: null });
    expect(body.keys).toEqual([expect.objectContaining({ token: sha256(teamKey), key_alias: 'k-info', team_id: 'team-info' })]);
    expect(body.team_memberships).toEqual([]);

    expect((await ok('/team/info?team_id=team-info', undefined, teamKey)).team_id).toBe('team-info');
    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await ok('/team/info?team_id=team-info', undefined, carol)).team_id).toBe('team-info');
    const otherTeamKey = await seedKey(stack.databaseUrl, { teamId: 'team-dup' });
    expect((await call('/team/info?team_id=team-info', undefined, otherTeamKey)).status).toBe(403);
    expect((await call('/team/info?team_id=team-dup', undefined, teamKey)).status).toBe(403);
    expect((await call('/team/info?team_id=team-info', undefined, null)).status).toBe(401);
    expect((await call('/team/info?team_id=nope')).body.error).toMatchObject({ type: 'not_found_error', code: '404' });
    expect((await call('/team/info')).body.error).toMatchObject({ code: '422', param: 'team_id' });
  });

  it('lists teams, filtered by member or organization', async () => {
    const all = await ok('/team/list');
    expect(all.length).toBe(await count('LiteLLM_TeamTable'));
    expect(all[0]).toHaveProperty('keys');
    expect(all[0]).toHaveProperty('team_memberships');
    const aliceTeams = await ok('/team/list?user_id=alice');
    expect(aliceTeams.map((t: Json) => t.team_id).sort()).toEqual(['team-admin-edit', 'team-m', 'team-members']);
    expect((await ok('/team/list?organization_id=org-1')).map((t: Json) => t.team_id)).toEqual(['team-members']);
    const unorganized = await ok('/team/list?organization_id=default_organization');
    expect(unorganized.length).toBe(all.length - 1);
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    expect((await ok('/team/list?user_id=alice', undefined, alice)).length).toBe(3);
    expect((await call('/team/list', undefined, alice)).status).toBe(403);
    expect((await call('/team/list?user_id=carol', undefined, alice)).status).toBe(403);
  });
});

describe('block, unblock and delete', () => {
  it('blocks and unblocks a team, and its keys stop and start working', async () => {
    await ok('/team/new', { team_id: 'team-block' });
    const key = await seedKey(stack.databaseUrl, { teamId: 'team-block' });
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
    const blocked = await ok('/team/block', { team_id: 'team-block' });
    expect(Object.keys(blocked).sort()).toEqual(TEAM_FIELDS);
    expect(blocked).toMatchObject({ team_id: 'team-block', blocked: true });
    const err = await chat(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((await ok('/team/unblock', { team_id: 'team-block' })).blocked).toBe(false);
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
    expect((await audits('team-block')).map((a) => a.action)).toEqual(['created', 'blocked', 'unblocked']);
    expect((await call('/team/block', { team_id: 'nope' })).status).toBe(404);
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    expect((await call('/team/block', { team_id: 'team-admin-edit' }, alice)).status).toBe(403);
  });

  it('deletes teams with their keys in one transaction', async () => {
    await ok('/team/new', { team_id: 'team-del-1', members_with_roles: [{ role: 'user', user_id: 'del-user' }] });
    await ok('/team/new', { team_id: 'team-del-2' });
    const keys = [await seedKey(stack.databaseUrl, { teamId: 'team-del-1' }), await seedKey(stack.databaseUrl, { teamId: 'team-del-2' })];
    expect((await chat(keys[0]!)).choices[0]?.message.content).toBe('pong');
    const before = await count('LiteLLM_TeamTable');
    const missing = await call('/team/delete', { team_ids: ['team-del-1', 'nope'] });
    expect(missing.status).toBe(404);
    expect(await count('LiteLLM_TeamTable')).toBe(before);
    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await call('/team/delete', { team_ids: ['team-del-1'] }, carol)).status).toBe(403);
    expect((await call('/team/delete', { team_ids: [] })).status).toBe(422);

    expect(await ok('/team/delete', { team_ids: ['team-del-1', 'team-del-2'] }, TEST_MASTER_KEY, { headers: { 'litellm-changed-by': 'ops' } }))
      .toEqual({ deleted_teams: ['team-del-1', 'team-del-2'] });
    const hashes = keys.map(sha256);
    expect(await rows('SELECT token FROM "LiteLLM_VerificationToken" WHERE token = ANY($1)', [hashes])).toEqual([]);
    const deletedKeys = await rows('SELECT token, team_id, deleted_by, deleted_by_api_key, litellm_changed_by FROM "LiteLLM_DeletedVerificationToken" WHERE token = ANY($1) ORDER BY team_id', [hashes]);
    expect(deletedKeys).toEqual([
      { token: hashes[0], team_id: 'team-del-1', deleted_by: 'default_user_id', deleted_by_api_key: sha256(TEST_MASTER_KEY), litellm_changed_by: 'ops' },
      { token: hashes[1], team_id: 'team-del-2', deleted_by: 'default_user_id', deleted_by_api_key: sha256(TEST_MASTER_KEY), litellm_changed_by: 'ops' },
    ]);
    expect((await rows(`SELECT team_id FROM "LiteLLM_DeletedTeamTable" ORDER BY team_id`)).map((r) => r.team_id)).toEqual(['team-del-1', 'team-del-2']);
    expect(await rows(`SELECT team_id FROM "LiteLLM_TeamTable" WHERE team_id LIKE 'team-del-%'`)).toEqual([]);
    expect((await rows(`SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = 'del-user'`))[0]?.teams).toEqual([]);
    expect((await audits('team-del-1')).map((a) => a.action)).toEqual(['created', 'deleted']);
    const keyAudit = (await audits(hashes[0]!))[0];
    expect(keyAudit).toMatchObject({ action: 'deleted', table_name: 'LiteLLM_VerificationToken', changed_by: 'ops' });
    expect(keyAudit!.before_value.token).toBe('[redacted]');
    const err = await chat(keys[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('max_budget_in_team', () => {
  it('holds a team key\'s user to the member budget inside the team, and follows member_update at once', async () => {
    await ok('/team/new', { team_id: 'team-mb', members_with_roles: [{ role: 'user', user_id: 'mb-rich' }] });
    await ok('/team/member_add', { team_id: 'team-mb', member: { role: 'user', user_id: 'mb-user' }, max_budget_in_team: 1 });
    await rows(`UPDATE "LiteLLM_TeamMembership" SET spend = 2 WHERE team_id = 'team-mb' AND user_id = 'mb-user'`);
    const capped = (await ok('/key/generate', { team_id: 'team-mb', user_id: 'mb-user' })).key as string;
    const other = (await ok('/key/generate', { team_id: 'team-mb', user_id: 'mb-rich' })).key as string;
    const refused = await chat(capped).catch((e: unknown) => e) as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused.error).toMatchObject({ type: 'budget_exceeded', message: expect.stringContaining('Budget has been exceeded! User=mb-user in Team=team-mb Current cost: 2, Max budget: 1') });
    expect((await chat(other)).choices[0]?.message.content).toBeTruthy();
    await ok('/team/member_update', { team_id: 'team-mb', user_id: 'mb-user', max_budget_in_team: 10 });
    expect((await chat(capped)).choices[0]?.message.content).toBeTruthy();
  });
});
