import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;
const { call, ok, rows, audits, count, chat } = adminClient(() => stack);

const ORG_FIELDS = ['budget_id', 'created_at', 'created_by', 'litellm_budget_table', 'metadata', 'model_spend', 'models', 'organization_alias',
  'organization_id', 'spend', 'updated_at', 'updated_by'];

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by) VALUES ('shared', 99, 'seed', 'seed')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, user_email) VALUES ('existing', 'internal_user', 'existing@example.com')`);
});
afterAll(async () => stack?.stop());

describe('POST /organization/new', () => {
  it('creates an organization with a budget row made from its budget fields', async () => {
    const body = await ok('/organization/new', { organization_alias: 'Acme', models: ['mock-gpt'], max_budget: 100, budget_duration: '30d', rpm_limit: 60, metadata: { region: 'me' } });
    expect(Object.keys(body).sort()).toEqual(ORG_FIELDS);
    expect(body.organization_id).toMatch(/^[0-9a-f-]{36}$/);
    const now = new Date();
    expect(body).toMatchObject({
      organization_alias: 'Acme', models: ['mock-gpt'], spend: 0, metadata: { region: 'me' }, created_by: 'default_user_id',
      litellm_budget_table: { budget_id: body.budget_id, max_budget: 100, rpm_limit: 60, budget_duration: '30d',
        budget_reset_at: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString() },
    });
    expect((await audits(body.organization_id))[0]).toMatchObject({ action: 'created', table_name: 'LiteLLM_OrganizationTable' });
  });

  it('takes an id and an existing budget; refuses duplicates, bad input and unknown budgets', async () => {
    const body = await ok('/organization/new', { organization_id: 'org-a', organization_alias: 'A', budget_id: 'shared' });
    expect(body).toMatchObject({ organization_id: 'org-a', budget_id: 'shared', litellm_budget_table: { max_budget: 99 } });
    const orgs = await count('LiteLLM_OrganizationTable');
    const budgets = await count('LiteLLM_BudgetTable');
    for (const [req, param] of [[{}, 'organization_alias'], [{ organization_alias: 'x', models: 'all' }, 'models'], [{ organization_alias: 'x', tpm_limit: 'lots' }, 'tpm_limit']] as const) {
      const res = await call('/organization/new', req);
      expect(res.status, param).toBe(422);
      expect(res.body.error.param).toBe(param);
    }
    for (const [req, param] of [[{ organization_id: 'org-a', organization_alias: 'again' }, 'organization_id'], [{ organization_alias: 'x', max_budget: -1 }, 'max_budget'],
      [{ organization_alias: 'x', budget_id: 'nope' }, 'budget_id']] as const) {
      const res = await call('/organization/new', req);
      expect(res.status, param).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param });
    }
    expect(await count('LiteLLM_OrganizationTable')).toBe(orgs);
    expect(await count('LiteLLM_BudgetTable')).toBe(budgets);
  });

  it('is for proxy admins only', async () => {
    expect((await call('/organization/new', { organization_alias: 'x' }, null)).status).toBe(401);
    const plain = await seedKey(stack.databaseUrl, { userId: 'existing' });
    expect((await call('/organization/new', { organization_alias: 'x' }, plain)).status).toBe(403);
  });
});

describe('organization members, info, list and update', () => {
  it('adds members, creating users that do not exist', async () => {
    await ok('/organization/new', { organization_id: 'org-m', organization_alias: 'M' });
    const body = await ok('/organization/member_add', {
      organization_id: 'org-m', member: [{ role: 'org_admin', user_id: 'org-boss' }, { role: 'internal_user', user_email: 'existing@example.com' }],
      max_budget_in_organization: 5,
    });
    expect(Object.keys(body).sort()).toEqual(['organization_id', 'updated_organization_memberships', 'updated_users']);
    expect(body.updated_users.map((u: Json) => u.user_id)).toEqual(['org-boss', 'existing']);
    expect(body.updated_organization_memberships).toEqual([
      expect.objectContaining({ user_id: 'org-boss', organization_id: 'org-m', user_role: 'org_admin', spend: 0, budget_id: expect.any(String) }),
      expect.objectContaining({ user_id: 'existing', organization_id: 'org-m', user_role: 'internal_user' }),
    ]);
    expect(await rows(`SELECT user_role FROM "LiteLLM_UserTable" WHERE user_id = 'org-boss'`)).toEqual([{ user_role: 'internal_user' }]);
    expect((await call('/organization/member_add', { organization_id: 'org-m', member: { role: 'internal_user', user_id: 'org-boss' } })).status).toBe(400);
    expect((await call('/organization/member_add', { organization_id: 'org-m', member: { role: 'emperor', user_id: 'x' } })).status).toBe(422);
    expect((await call('/organization/member_add', { organization_id: 'nope', member: { role: 'internal_user', user_id: 'x' } })).status).toBe(404);

    const boss = await seedKey(stack.databaseUrl, { userId: 'org-boss' });
    const member = await seedKey(stack.databaseUrl, { userId: 'existing' });
    expect((await ok('/organization/member_add', { organization_id: 'org-m', member: { role: 'internal_user', user_id: 'by-boss' } }, boss)).updated_users).toHaveLength(1);
    expect((await call('/organization/member_add', { organization_id: 'org-m', member: { role: 'internal_user', user_id: 'by-member' } }, member)).status).toBe(403);
    expect((await call('/organization/member_add', { organization_id: 'org-a', member: { role: 'internal_user', user_id: 'x' } }, boss)).status).toBe(403);
  });

  it('updates a member\'s role and budget and removes a member, for proxy and org admins only', async () => {
    await ok('/organization/new', { organization_id: 'org-u', organization_alias: 'U' });
    await ok('/organization/member_add', { organization_id: 'org-u', member: [{ role: 'org_admin', user_id: 'u-boss' }, { role: 'internal_user', user_id: 'u-member' }] });
    const updated = await ok('/organization/member_update', { organization_id: 'org-u', user_id: 'u-member', role: 'internal_user_viewer', max_budget_in_organization: 3 });
    expect(updated).toMatchObject({ user_id: 'u-member', organization_id: 'org-u', user_role: 'internal_user_viewer', budget_id: expect.any(String) });
    expect(await rows(`SELECT b.max_budget FROM "LiteLLM_OrganizationMembership" m JOIN "LiteLLM_BudgetTable" b USING (budget_id) WHERE m.user_id = 'u-member'`)).toEqual([{ max_budget: 3 }]);
    const member = await seedKey(stack.databaseUrl, { userId: 'u-member' });
    expect((await call('/organization/member_update', { organization_id: 'org-u', user_id: 'u-boss', role: 'internal_user' }, member)).status).toBe(403);
    expect((await call('/organization/member_update', { organization_id: 'org-u', user_id: 'nobody', role: 'internal_user' })).status).toBe(404);
    const boss = await seedKey(stack.databaseUrl, { userId: 'u-boss' });
    const removed = await ok('/organization/member_delete', { organization_id: 'org-u', user_id: 'u-member' }, boss);
    expect(removed).toMatchObject({ user_id: 'u-member', organization_id: 'org-u' });
    expect((await ok('/organization/info?organization_id=org-u')).members.map((m: Json) => m.user_id)).toEqual(['u-boss']);
    expect((await call('/organization/member_delete', { organization_id: 'org-u', user_id: 'u-member' })).status).toBe(404);
  });

  it('shows an organization with its budget, members and teams', async () => {
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, organization_id) VALUES ('team-in-m', 'org-m')`);
    const body = await ok('/organization/info?organization_id=org-m');
    expect(Object.keys(body).sort()).toEqual([...ORG_FIELDS, 'members', 'teams'].sort());
    expect(body.members.map((m: Json) => m.user_id).sort()).toEqual(['by-boss', 'existing', 'org-boss']);
    expect(body.teams.map((t: Json) => [t.team_id, t.spend])).toEqual([['team-in-m', 0]]);
    expect(body.litellm_budget_table.budget_id).toBe(body.budget_id);
    const member = await seedKey(stack.databaseUrl, { userId: 'existing' });
    expect((await ok('/organization/info?organization_id=org-m', undefined, member)).organization_id).toBe('org-m');
    expect((await call('/organization/info?organization_id=org-a', undefined, member)).status).toBe(403);
    expect((await call('/organization/info?organization_id=nope')).status).toBe(404);

    const all = await ok('/organization/list');
    expect(all.length).toBe(await count('LiteLLM_OrganizationTable'));
    expect((await ok('/organization/list', undefined, member)).map((o: Json) => o.organization_id)).toEqual(['org-m']);
  });

  it('updates (PATCH or POST) only the given fields, editing its budget row', async () => {
    const before = await ok('/organization/info?organization_id=org-m');
    const body = await ok('/organization/update', { organization_id: 'org-m', organization_alias: 'Renamed', max_budget: 50 }, TEST_MASTER_KEY, { method: 'PATCH' });
    expect(body).toMatchObject({ organization_id: 'org-m', organization_alias: 'Renamed', budget_id: before.budget_id, litellm_budget_table: { max_budget: 50 } });
    expect(body.members).toHaveLength(3);
    const posted = await ok('/organization/update', { organization_id: 'org-m', models: ['mock-gpt'] });
    expect(posted).toMatchObject({ organization_alias: 'Renamed', models: ['mock-gpt'] });
    expect((await call('/organization/update', { organization_id: 'nope', organization_alias: 'x' })).status).toBe(404);
    expect((await call('/organization/update', { organization_id: 'org-m', max_budget: -2 })).status).toBe(400);
    const plain = await seedKey(stack.databaseUrl, { userId: 'existing' });
    expect((await call('/organization/update', { organization_id: 'org-m', organization_alias: 'x' }, plain)).status).toBe(403);
    expect((await audits('org-m')).map((a) => a.action)).toEqual(['created', 'updated', 'updated']);
  });
});

describe('DELETE /organization/delete', () => {
  it('deletes organizations with their teams, keys and memberships', async () => {
    await ok('/organization/new', { organization_id: 'org-del', organization_alias: 'Del' });
    await ok('/team/new', { team_id: 'team-of-del', organization_id: 'org-del' });
    await ok('/organization/member_add', { organization_id: 'org-del', member: { role: 'internal_user', user_id: 'del-member' } });
    const teamKey = await seedKey(stack.databaseUrl, { teamId: 'team-of-del' });
    expect((await chat(teamKey)).choices[0]?.message.content).toBe('pong');
    expect((await call('/organization/delete', { organization_ids: ['org-del', 'nope'] }, TEST_MASTER_KEY, { method: 'DELETE' })).status).toBe(404);
    expect(await count('LiteLLM_OrganizationTable')).toBeGreaterThan(0);
    const plain = await seedKey(stack.databaseUrl, { userId: 'existing' });
    expect((await call('/organization/delete', { organization_ids: ['org-del'] }, plain, { method: 'DELETE' })).status).toBe(403);

    const body = await ok('/organization/delete', { organization_ids: ['org-del'] }, TEST_MASTER_KEY, { method: 'DELETE' });
    expect(body).toEqual([expect.objectContaining({ organization_id: 'org-del', teams: [expect.objectContaining({ team_id: 'team-of-del' })], members: [expect.objectContaining({ user_id: 'del-member' })] })]);
    expect(await rows(`SELECT * FROM "LiteLLM_OrganizationTable" WHERE organization_id = 'org-del'`)).toEqual([]);
    expect(await rows(`SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = 'team-of-del'`)).toEqual([]);
    expect(await rows(`SELECT team_id FROM "LiteLLM_DeletedTeamTable"`)).toEqual([{ team_id: 'team-of-del' }]);
    expect((await rows(`SELECT token FROM "LiteLLM_DeletedVerificationToken"`)).map((r) => r.token)).toEqual([sha256(teamKey)]);
    expect(await rows(`SELECT * FROM "LiteLLM_OrganizationMembership" WHERE organization_id = 'org-del'`)).toEqual([]);
    expect((await audits('org-del')).at(-1)).toMatchObject({ action: 'deleted' });
    expect(await chat(teamKey).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await ok('/organization/delete', { organization_ids: ['org-a'] })).toHaveLength(1);
  });
});
