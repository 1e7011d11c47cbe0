import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;
const { call, ok, rows, audits, count, chat } = adminClient(() => stack);

const USER_FIELDS = [
  'allowed_cache_controls', 'budget_duration', 'budget_reset_at', 'created_at', 'max_budget', 'max_parallel_requests', 'metadata', 'model_max_budget',
  'model_spend', 'models', 'organization_id', 'rpm_limit', 'spend', 'sso_user_id', 'team_id', 'teams', 'tpm_limit', 'updated_at', 'user_alias',
  'user_email', 'user_id', 'user_role',
];

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('team-u', 'U'), ('team-v', 'V')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-u', 'Org U')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('viewer', 'proxy_admin_viewer')`);
});
afterAll(async () => stack?.stop());

describe('POST /user/new', () => {
  it('creates a user and a working key for it, storing only the hash', async () => {
    const body = await ok('/user/new', {
      user_id: 'u-1', user_email: 'u1@example.com', user_alias: 'User One', max_budget: 25, budget_duration: '1d', models: ['mock-gpt'],
      tpm_limit: 1000, rpm_limit: 10, metadata: { dept: 'cs' }, teams: ['team-u', { team_id: 'team-v', user_role: 'admin', max_budget_in_team: 3 }],
      organizations: ['org-u'], key_alias: 'u1-key', duration: '7d',
    });
    expect(Object.keys(body).sort()).toEqual([...USER_FIELDS, 'expires', 'key', 'key_alias'].sort());
    expect(body).toMatchObject({
      user_id: 'u-1', user_email: 'u1@example.com', user_alias: 'User One', user_role: 'internal_user', max_budget: 25, budget_duration: '1d',
      models: ['mock-gpt'], tpm_limit: 1000, rpm_limit: 10, metadata: { dept: 'cs' }, teams: ['team-u', 'team-v'], spend: 0, key_alias: 'u1-key',
    });
    const now = new Date();
    expect(body.budget_reset_at).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString());
    expect(body.key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/);
    expect(Date.parse(body.expires) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
    const [key] = await rows('SELECT * FROM "LiteLLM_VerificationToken" WHERE user_id = $1', ['u-1']);
    expect(key).toMatchObject({ token: sha256(body.key), key_name: `sk-...${body.key.slice(-4)}`, key_alias: 'u1-key', team_id: null });
    expect(JSON.stringify(await rows('SELECT * FROM "LiteLLM_VerificationToken"'))).not.toContain(body.key);
    expect(JSON.stringify(await rows('SELECT * FROM "LiteLLM_AuditLog"'))).not.toContain(body.key);
    expect((await chat(body.key)).choices[0]?.message.content).toBe('pong');

    const teams = await rows(`SELECT team_id, members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id IN ('team-u', 'team-v') ORDER BY team_id`);
    expect(teams.map((t) => t.members_with_roles)).toEqual([
      [{ role: 'user', user_id: 'u-1', user_email: 'u1@example.com' }],
      [{ role: 'admin', user_id: 'u-1', user_email: 'u1@example.com' }],
    ]);
    expect(await rows(`SELECT user_id, organization_id, user_role FROM "LiteLLM_OrganizationMembership"`))
      .toEqual([{ user_id: 'u-1', organization_id: 'org-u', user_role: 'internal_user' }]);
    expect((await rows(`SELECT b.max_budget FROM "LiteLLM_TeamMembership" m JOIN "LiteLLM_BudgetTable" b USING (budget_id) WHERE m.team_id = 'team-v'`))[0])
      .toEqual({ max_budget: 3 });
    expect((await audits('u-1')).map((a) => [a.action, a.table_name])).toEqual([['created', 'LiteLLM_UserTable']]);
    expect((await audits(sha256(body.key)))[0]).toMatchObject({ action: 'created', table_name: 'LiteLLM_VerificationToken' });
  });

  it('generates an id, and makes no key when auto_create_key is false', async () => {
    const body = await ok('/user/new', { auto_create_key: false, user_role: 'internal_user_viewer' });
    expect(body.user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toMatchObject({ key: null, user_role: 'internal_user_viewer', teams: [], models: [] });
    expect(await rows('SELECT token FROM "LiteLLM_VerificationToken" WHERE user_id = $1', [body.user_id])).toEqual([]);
  });

  it('refuses bad input, duplicates and unknown teams, writing nothing', async () => {
    const users = await count('LiteLLM_UserTable');
    const keys = await count('LiteLLM_VerificationToken');
    for (const [field, value] of [['max_budget', 'x'], ['user_role', 'god'], ['teams', 'team-u'], ['tpm_limit', -2], ['auto_create_key', 'no'], ['duration', '1 year']] as const) {
      const res = await call('/user/new', { [field]: value });
      expect(res.status, field).toBe(422);
      expect(res.body.error.param, field).toMatch(new RegExp(`^${field}`));
    }
    for (const [body, param] of [[{ max_budget: -1 }, 'max_budget'], [{ user_id: 'u-1' }, 'user_id'], [{ user_email: 'U1@example.com' }, 'user_email'],
      [{ teams: ['no-team'] }, 'teams'], [{ organizations: ['no-org'] }, 'organization_id'], [{ teams: [{ team_id: 'team-u', max_budget_in_team: -1 }] }, 'max_budget_in_team']] as const) {
      const res = await call('/user/new', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param });
    }
    expect(await count('LiteLLM_UserTable')).toBe(users);
    expect(await count('LiteLLM_VerificationToken')).toBe(keys);
  });

  it('is for proxy admins only', async () => {
    expect((await call('/user/new', {}, null)).status).toBe(401);
    const plain = await seedKey(stack.databaseUrl, { userId: 'u-1' });
    expect((await call('/user/new', {}, plain)).status).toBe(403);
    const viewer = await seedKey(stack.databaseUrl, { userId: 'viewer' });
    expect((await call('/user/new', {}, viewer)).status).toBe(403);
    const root = await seedKey(stack.databaseUrl, { userId: 'root' });
    expect((await ok('/user/new', { auto_create_key: false }, root)).user_role).toBe('internal_user');
  });
});

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

describe('POST /user/update', () => {
  it('changes only the given fields and answers {"user_id", "data"}', async () => {
    await ok('/user/new', { user_id: 'u-upd', user_email: 'upd@example.com', max_budget: 10, models: ['mock-gpt'], auto_create_key: false });
    const body = await ok('/user/update', { user_id: 'u-upd', user_alias: 'Updated', max_budget: null }, TEST_MASTER_KEY, { headers: { 'litellm-changed-by': 'hr' } });
    expect(Object.keys(body).sort()).toEqual(['data', 'user_id']);
    expect(body.data).toMatchObject({ user_id: 'u-upd', user_alias: 'Updated', max_budget: null, models: ['mock-gpt'], user_email: 'upd@example.com' });
    expect(body.data).not.toHaveProperty('password');
    const byEmail = await ok('/user/update', { user_email: 'UPD@example.com', tpm_limit: 5 });
    expect(byEmail.data).toMatchObject({ user_id: 'u-upd', tpm_limit: 5, user_email: 'upd@example.com' });
    const audit = (await audits('u-upd')).filter((a) => a.action === 'updated');
    expect(audit[0]).toMatchObject({ changed_by: 'hr', before_value: { user_alias: null }, updated_values: { user_alias: 'Updated' } });
    expect((await call('/user/update', { user_id: 'nobody', user_alias: 'x' })).status).toBe(404);
    expect((await call('/user/update', { user_alias: 'x' })).status).toBe(400);
    expect((await call('/user/update', { user_id: 'u-upd', max_budget: -5 })).status).toBe(400);
    expect((await call('/user/update', { user_id: 'u-upd', user_role: 'king' })).status).toBe(422);
  });

  it('lets users edit their own alias and metadata, nothing else', async () => {
    const own = await seedKey(stack.databaseUrl, { userId: 'u-upd' });
    expect((await ok('/user/update', { user_id: 'u-upd', user_alias: 'Me' }, own)).data.user_alias).toBe('Me');
    expect((await call('/user/update', { user_id: 'u-upd', max_budget: 1000 }, own)).status).toBe(403);
    expect((await call('/user/update', { user_id: 'u-upd', user_role: 'proxy_admin' }, own)).status).toBe(403);
    expect((await call('/user/update', { user_id: 'u-1', user_alias: 'x' }, own)).status).toBe(403);
    // A user's object_permission grants a team-less JWT caller its search tools: not the user's own to write.
    const grant = await call('/user/update', { user_id: 'u-upd', metadata: { object_permission: { search_tools: ['web'] } } }, own);
    expect(grant.status).toBe(403);
    expect((await ok('/user/update', { user_id: 'u-upd', metadata: { dept: 'ops' } }, own)).data.metadata).toEqual({ dept: 'ops' });
  });

  it('keeps an admin-set object_permission when the user replaces its own metadata, and its email is the admin\'s to change', async () => {
    await ok('/user/new', { user_id: 'u-grant', user_email: 'grant@corp.test', metadata: { object_permission: { search_tools: ['web'] }, note: 'x' }, auto_create_key: false });
    const own = await seedKey(stack.databaseUrl, { userId: 'u-grant' });
    const grant = { object_permission: { search_tools: ['web'] } };
    expect((await ok('/user/update', { user_id: 'u-grant', metadata: {} }, own)).data.metadata).toEqual(grant);
    expect((await ok('/user/update', { user_id: 'u-grant', metadata: null }, own)).data.metadata).toEqual(grant);
    expect((await ok('/user/update', { user_id: 'u-grant', metadata: { dept: 'ops' } }, own)).data.metadata).toEqual({ ...grant, dept: 'ops' });
    const stored = async () => (await rows('SELECT metadata, user_email FROM "LiteLLM_UserTable" WHERE user_id = $1', ['u-grant']))[0]!;
    expect((await stored()).metadata).toEqual({ ...grant, dept: 'ops' });
    // A JWT with an unknown user id is the user its email names: a user's own email is not theirs to change.
    const email = await call('/user/update', { user_id: 'u-grant', user_email: 'someone.else@corp.test' }, own);
    expect(email.status).toBe(403);
    expect(email.body.error.message).toContain('Only proxy admins can change user_email');
    expect((await stored()).user_email).toBe('grant@corp.test');
    expect((await ok('/user/update', { user_id: 'u-grant', user_email: 'new@corp.test' })).data.user_email).toBe('new@corp.test');
    // A proxy admin's replacement is whole, as before.
    expect((await ok('/user/update', { user_id: 'u-grant', metadata: {} })).data.metadata).toEqual({});
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
