import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { startAdminUsersStack, USER_FIELDS } from './support/admin-users.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Writing users: POST /user/new and POST /user/update, by admins and by users on themselves.
// Reads, lists and deletes are in admin-users-list-delete.test.ts.

let stack: TestStack;
const { call, ok, rows, audits, count, chat } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startAdminUsersStack();
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
