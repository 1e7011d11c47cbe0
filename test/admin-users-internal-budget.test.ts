import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's max_internal_user_budget and internal_user_budget_duration: the budget of an internal user created
// without one, by /user/new and by the routes that create users implicitly (get_new_internal_user_defaults).

let stack: TestStack;
const { call, ok, rows } = adminClient(() => stack);
const user = async (userId: string) => (await rows('SELECT user_role, max_budget, budget_duration, budget_reset_at FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId]))[0];
const userByEmail = async (email: string) => (await rows('SELECT user_role, max_budget, budget_duration, budget_reset_at FROM "LiteLLM_UserTable" WHERE user_email = $1', [email]))[0];

beforeAll(async () => {
  stack = await startTestStack({ configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
litellm_settings:
  timezone: UTC
  max_internal_user_budget: 7.5
  internal_user_budget_duration: 7d
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
` });
});
afterAll(async () => stack?.stop());

describe('max_internal_user_budget and internal_user_budget_duration', () => {
  it('gives an internal user created without a budget max_internal_user_budget and internal_user_budget_duration', async () => {
    const created = await call('/user/new', { user_id: 'nu-1' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ user_id: 'nu-1', user_role: 'internal_user', max_budget: 7.5, budget_duration: '7d' });
    expect(await user('nu-1')).toMatchObject({ max_budget: 7.5, budget_duration: '7d' });
    expect((await user('nu-1'))?.budget_reset_at).not.toBeNull();
    // What the request sets wins, field by field; null is unset, as LiteLLM reads None.
    expect((await call('/user/new', { user_id: 'nu-2', user_role: 'internal_user', max_budget: 2 })).body).toMatchObject({ max_budget: 2, budget_duration: '7d' });
    expect((await call('/user/new', { user_id: 'nu-3', max_budget: null, budget_duration: '1d' })).body).toMatchObject({ max_budget: 7.5, budget_duration: '1d' });
    // Other roles are left alone, as in LiteLLM.
    for (const role of ['proxy_admin', 'internal_user_viewer']) {
      expect((await call('/user/new', { user_id: `nu-${role}`, user_role: role })).body).toMatchObject({ max_budget: null, budget_duration: null });
    }
    expect(await user('nu-proxy_admin')).toMatchObject({ max_budget: null, budget_duration: null });
  });

  it('gives the users /team/new and /team/member_add create (by id or email) the same budget, and leaves existing users alone', async () => {
    await ok('/user/new', { user_id: 'known', user_role: 'internal_user', max_budget: 1, budget_duration: '1d' });
    await ok('/team/new', { team_id: 'tb-1', members_with_roles: [{ role: 'admin', user_id: 'tm-founder' }] });
    const added = await ok('/team/member_add', { team_id: 'tb-1', member: [{ role: 'user', user_id: 'tm-new' }, { role: 'user', user_email: 'tm@example.com' }, { role: 'user', user_id: 'known' }] });
    expect(added.updated_users.find((u: { user_id: string }) => u.user_id === 'tm-new')).toMatchObject({ max_budget: 7.5, budget_duration: '7d' });
    for (const row of [await user('tm-founder'), await user('tm-new'), await userByEmail('tm@example.com')]) {
      expect(row).toMatchObject({ user_role: 'internal_user', max_budget: 7.5, budget_duration: '7d' });
      expect(row?.budget_reset_at).not.toBeNull();
    }
    expect(await user('known')).toMatchObject({ max_budget: 1, budget_duration: '1d' });
  });

  it('gives the users /organization/member_add creates the same budget, and leaves existing users alone', async () => {
    await ok('/organization/new', { organization_id: 'ob-1', organization_alias: 'OB' });
    await ok('/user/new', { user_id: 'org-known', user_role: 'internal_user', max_budget: 3 });
    await ok('/organization/member_add', { organization_id: 'ob-1', member: [{ role: 'internal_user', user_id: 'om-new' }, { role: 'internal_user', user_email: 'om@example.com' }, { role: 'internal_user', user_id: 'org-known' }] });
    for (const row of [await user('om-new'), await userByEmail('om@example.com')]) {
      expect(row).toMatchObject({ user_role: 'internal_user', max_budget: 7.5, budget_duration: '7d' });
      expect(row?.budget_reset_at).not.toBeNull();
    }
    expect(await user('org-known')).toMatchObject({ max_budget: 3, budget_duration: '7d' });
  });
});
