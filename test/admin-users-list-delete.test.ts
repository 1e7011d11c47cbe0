import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type Json } from './support/admin.ts';
import { seedListedUsers, startAdminUsersStack, USER_FIELDS } from './support/admin-users.ts';
import { seedKey, sha256 } from './support/keys.ts';
import type { TestStack } from './support/stack.ts';

// Reading and removing users: GET /user/info, /user/available_roles and /user/list, POST /user/delete.
// Creating and updating users is in admin-users-create-update.test.ts.

let stack: TestStack;
const { call, ok, rows, audits, count, chat } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startAdminUsersStack();
  await seedListedUsers(ok);
});
afterAll(async () => stack?.stop());

describe('GET /user/info', () => {
  it('shows a user with its keys and teams to admins and to the user', async () => {
    const body = await ok('/user/info?user_id=u-1');
    expect(Object.keys(body).sort()).toEqual(['keys', 'teams', 'user_id', 'user_info']);
    expect(Object.keys(body.user_info).sort()).toEqual(USER_FIELDS);
    expect(body.user_info).toMatchObject({ user_id: 'u-1', max_budget: 25 });
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    expect(body.keys[0]).toMatchObject({ user_id: 'u-1', team_alias: 'None', token: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(body.teams.map((t: Json) => t.team_id)).toEqual(['team-u', 'team-v']);
    expect(body.teams[0]).toHaveProperty('spend', 0);

    const own = await seedKey(stack.databaseUrl, { userId: 'u-1' });
    expect((await ok('/user/info', undefined, own)).user_id).toBe('u-1');
    expect((await ok('/user/info?user_id=u-1', undefined, own)).user_id).toBe('u-1');
    expect((await call('/user/info?user_id=root', undefined, own)).status).toBe(403);
    const viewer = await seedKey(stack.databaseUrl, { userId: 'viewer' });
    expect((await ok('/user/info?user_id=u-1', undefined, viewer)).user_id).toBe('u-1');
    expect((await call('/user/info?user_id=nobody')).body.error).toMatchObject({ type: 'not_found_error', code: '404' });
    expect((await call('/user/info')).status).toBe(400);
    expect((await call('/user/info?user_id=u-1', undefined, null)).status).toBe(401);
  });
});

describe('GET /user/available_roles', () => {
  it("names the roles LiteLLM's admin UI offers, each with its label and description", async () => {
    const roles = await ok('/user/available_roles');
    expect(Object.keys(roles)).toEqual(['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer']);
    for (const role of Object.values(roles) as { description: string; ui_label: string }[]) {
      expect(role.description.length).toBeGreaterThan(10);
      expect(role.ui_label.length).toBeGreaterThan(3);
    }
    expect((await call('/user/available_roles', undefined, null)).status).toBe(401);
  });
});

describe('GET /user/list', () => {
  it('pages users with filters', async () => {
    const total = await count('LiteLLM_UserTable');
    const page = await ok('/user/list?page=1&page_size=2');
    expect(Object.keys(page).sort()).toEqual(['page', 'page_size', 'total', 'total_pages', 'users']);
    expect(page).toMatchObject({ total, page: 1, page_size: 2, total_pages: Math.ceil(total / 2) });
    expect(page.users).toHaveLength(2);
    expect(Object.keys(page.users[0]).sort()).toEqual([...USER_FIELDS, 'key_count'].sort());
    const sorted = await ok(`/user/list?sort_by=user_id&sort_order=asc&page_size=100`);
    expect(sorted.users.map((u: Json) => u.user_id)).toEqual([...sorted.users.map((u: Json) => u.user_id)].sort());
    const u1Keys = (await rows(`SELECT token FROM "LiteLLM_VerificationToken" WHERE user_id = 'u-1'`)).length;
    expect((await ok('/user/list?team=team-v')).users.map((u: Json) => [u.user_id, u.key_count])).toEqual([['u-1', u1Keys]]);
    expect((await ok('/user/list?role=proxy_admin_viewer')).users.map((u: Json) => u.user_id)).toEqual(['viewer']);
    expect((await ok('/user/list?user_email=example.com')).total).toBe(2);
    expect((await ok('/user/list?user_ids=u-1,u-upd')).total).toBe(2);
    expect((await call('/user/list?page_size=101')).status).toBe(422);
    expect((await call('/user/list?page=zero')).status).toBe(422);
    const own = await seedKey(stack.databaseUrl, { userId: 'u-1' });
    expect((await call('/user/list', undefined, own)).status).toBe(403);
  });
});

describe('POST /user/delete', () => {
  it('deletes users with their keys and memberships', async () => {
    const made = await ok('/user/new', { user_id: 'u-del', teams: ['team-u'], organizations: ['org-u'] });
    expect((await chat(made.key)).choices[0]?.message.content).toBe('pong');
    const users = await count('LiteLLM_UserTable');
    expect((await call('/user/delete', { user_ids: ['u-del', 'nobody'] })).status).toBe(404);
    expect(await count('LiteLLM_UserTable')).toBe(users);
    const own = await seedKey(stack.databaseUrl, { userId: 'u-1' });
    expect((await call('/user/delete', { user_ids: ['u-del'] }, own)).status).toBe(403);

    expect(await ok('/user/delete', { user_ids: ['u-del'] })).toBe(1);
    expect(await rows(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'u-del'`)).toEqual([]);
    expect(await rows(`SELECT * FROM "LiteLLM_VerificationToken" WHERE user_id = 'u-del'`)).toEqual([]);
    expect((await rows(`SELECT token FROM "LiteLLM_DeletedVerificationToken" WHERE user_id = 'u-del'`)).map((r) => r.token)).toEqual([sha256(made.key)]);
    expect(await rows(`SELECT * FROM "LiteLLM_OrganizationMembership" WHERE user_id = 'u-del'`)).toEqual([]);
    const [team] = await rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'team-u'`);
    expect(team!.members_with_roles.map((m: Json) => m.user_id)).toEqual(['u-1']);
    expect((await audits('u-del')).map((a) => a.action)).toEqual(['created', 'deleted']);
    expect(await chat(made.key).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
