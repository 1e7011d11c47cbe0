import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, TEAM_FIELDS, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;
const { call, ok, rows, audits, count, chat } = adminClient(() => stack);
const firstOfNextMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
};

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('alice', 'internal_user'), ('carol', 'internal_user')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-1', 'Org One')`);
});
afterAll(async () => stack?.stop());

describe('POST /team/new', () => {
  it("creates the reference guide's team with spend 0 and a monthly reset on the 1st", async () => {
    const body = await ok('/team/new', {
      team_alias: 'customer-support', max_budget: 2000, budget_duration: '30d', tpm_limit: 100000, rpm_limit: 1000,
      models: ['gpt-4o-uae-primary', 'claude-sonnet-bedrock-me'],
    });
    expect(Object.keys(body).sort()).toEqual(TEAM_FIELDS);
    expect(body).toMatchObject({
      team_alias: 'customer-support', max_budget: 2000, budget_duration: '30d', tpm_limit: 100000, rpm_limit: 1000,
      models: ['gpt-4o-uae-primary', 'claude-sonnet-bedrock-me'], spend: 0, blocked: false, admins: [], members: [],
      members_with_roles: [], metadata: {}, organization_id: null, max_parallel_requests: null, budget_reset_at: firstOfNextMonth(),
    });
    expect(body.team_id).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = await rows('SELECT team_spend, team_created_at FROM "LiteLLM_TeamTable" WHERE team_id = $1', [body.team_id]);
    expect(row).toMatchObject({ team_spend: 0 });
    expect(new Date(row!.team_created_at).toISOString()).toBe(body.created_at);
    const [audit] = await audits(body.team_id);
    expect(audit).toMatchObject({ action: 'created', table_name: 'LiteLLM_TeamTable', changed_by: 'master_key', changed_by_api_key: sha256(TEST_MASTER_KEY) });
    expect(audit!.updated_values).toMatchObject({ team_alias: 'customer-support', spend: 0 });
  });

  it('takes a team id, members (creating their users), tags and an organization', async () => {
    const body = await ok('/team/new', {
      team_id: 'team-members', team_alias: 'members', organization_id: 'org-1', tags: ['support'], metadata: { cost_center: 'cs' },
      members_with_roles: [{ role: 'admin', user_id: 'alice' }, { role: 'user', user_email: 'new@example.com' }],
    }, TEST_MASTER_KEY, { headers: { 'litellm-changed-by': 'ops-bot' } });
    expect(body).toMatchObject({ team_id: 'team-members', organization_id: 'org-1', metadata: { cost_center: 'cs', tags: ['support'] } });
    expect(body.members_with_roles).toEqual([
      { role: 'admin', user_id: 'alice', user_email: null },
      { role: 'user', user_id: expect.stringMatching(/^[0-9a-f-]{36}$/), user_email: 'new@example.com' },
    ]);
    const users = await rows(`SELECT user_id, user_email, user_role, teams FROM "LiteLLM_UserTable" WHERE user_id = $1 OR user_email = 'new@example.com' ORDER BY user_email NULLS FIRST`, ['alice']);
    expect(users).toEqual([
      { user_id: 'alice', user_email: null, user_role: 'internal_user', teams: ['team-members'] },
      { user_id: body.members_with_roles[1].user_id, user_email: 'new@example.com', user_role: 'internal_user', teams: ['team-members'] },
    ]);
    expect((await audits('team-members'))[0]).toMatchObject({ changed_by: 'ops-bot' });
  });

  it('refuses bad input with 422 per field or LiteLLM 400s, writing nothing', async () => {
    await ok('/team/new', { team_id: 'team-dup' });
    const before = await count('LiteLLM_TeamTable');
    const auditsBefore = await count('LiteLLM_AuditLog');
    for (const [field, value] of [['max_budget', 'lots'], ['models', 'mock-gpt'], ['tpm_limit', -1], ['rpm_limit', 1.5], ['budget_duration', 'monthly'],
      ['metadata', [1]], ['blocked', 'yes'], ['members_with_roles', [{ role: 'owner', user_id: 'x' }]], ['model_rpm_limit', { a: 'b' }]] as const) {
      const res = await call('/team/new', { [field]: value });
      expect(res.status, field).toBe(422);
      expect(res.body.error).toMatchObject({ type: 'validation_error', code: '422' });
      expect(res.body.error.param, field).toMatch(new RegExp(`^${field}`));
    }
    const two = await call('/team/new', { max_budget: 'x', tpm_limit: 'y' });
    expect(two.body.error.message).toContain('max_budget');
    expect(two.body.error.message).toContain('tpm_limit');
    for (const [body, param] of [[{ max_budget: -1 }, 'max_budget'], [{ soft_budget: -0.01 }, 'soft_budget'], [{ team_id: 'team-dup' }, 'team_id'],
      [{ organization_id: 'no-such-org' }, 'organization_id']] as const) {
      const res = await call('/team/new', body);
      expect(res.status, param).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param, code: '400' });
    }
    expect((await call('/team/new', { team_id: 'team-dup' })).body.error.message).toBe('Team id = team-dup already exists. Please use a different team id.');
    expect((await call('/team/new', '{"team_alias": ')).status).toBe(400);
    expect(await count('LiteLLM_TeamTable')).toBe(before);
    expect(await count('LiteLLM_AuditLog')).toBe(auditsBefore);
  });

  it('creates 10 teams in parallel', async () => {
    const bodies = await Promise.all(Array.from({ length: 10 }, (_, i) => ok('/team/new', { team_alias: `parallel-${i}`, metadata: { batch: 'p' } })));
    expect(new Set(bodies.map((b) => b.team_id)).size).toBe(10);
    expect((await rows(`SELECT team_id FROM "LiteLLM_TeamTable" WHERE metadata->>'batch' = 'p'`)).length).toBe(10);
  });

  it('is for proxy admins only; a proxy_admin user becomes admin of its new team', async () => {
    expect((await call('/team/new', {}, null)).status).toBe(401);
    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    const refused = await call('/team/new', {}, carol);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'auth_error', code: '403' });
    const root = await seedKey(stack.databaseUrl, { userId: 'root' });
    const body = await ok('/team/new', { team_alias: 'by-root' }, root);
    expect(body.members_with_roles).toEqual([{ role: 'admin', user_id: 'root', user_email: null }]);
  });
});

describe('POST /team/update', () => {
  it('changes only the given fields and answers {"data": team}', async () => {
    const created = await ok('/team/new', { team_alias: 'before', max_budget: 50, budget_duration: '1d', models: ['mock-gpt'], tpm_limit: 10 });
    const updated = await ok('/team/update', { team_id: created.team_id, team_alias: 'after' });
    expect(Object.keys(updated).sort()).toEqual(['data', 'team_id']);
    const { updated_at: _a, ...was } = created;
    const { updated_at: _b, ...now } = updated.data;
    expect(now).toEqual({ ...was, team_alias: 'after' });
    expect(Date.parse(updated.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    const cleared = await ok('/team/update', { team_id: created.team_id, max_budget: null, tpm_limit: null, models: null, tags: ['x'] });
    expect(cleared.data).toMatchObject({ max_budget: null, tpm_limit: null, models: [], team_alias: 'after', metadata: { tags: ['x'] } });
    const audit = (await audits(created.team_id)).filter((a) => a.action === 'updated');
    expect(audit).toHaveLength(2);
    expect(audit[0]!.before_value).toMatchObject({ team_alias: 'before' });
    expect(audit[0]!.updated_values).toMatchObject({ team_alias: 'after' });
  });

  it('refuses unknown teams, bad fields and negative money', async () => {
    const missing = await call('/team/update', { team_id: 'nope', team_alias: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ type: 'not_found_error', code: '404' });
    expect((await call('/team/update', { team_alias: 'x' })).body.error).toMatchObject({ code: '422', param: 'team_id' });
    expect((await call('/team/update', { team_id: 'team-dup', rpm_limit: 'many' })).body.error).toMatchObject({ code: '422', param: 'rpm_limit' });
    expect((await call('/team/update', { team_id: 'team-dup', max_budget: -3 })).body.error).toMatchObject({ code: '400', param: 'max_budget' });
    expect((await call('/team/update', { team_id: 'team-dup', organization_id: 'nope' })).body.error).toMatchObject({ code: '400', param: 'organization_id' });
  });

  it("lets a team admin edit their own team, but not raise its budget, and nobody else's", async () => {
    await ok('/team/new', { team_id: 'team-admin-edit', max_budget: 5, members_with_roles: [{ role: 'admin', user_id: 'alice' }, { role: 'user', user_id: 'carol' }] });
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await ok('/team/update', { team_id: 'team-admin-edit', team_alias: 'renamed', rpm_limit: 50, max_budget: 4 }, alice)).data)
      .toMatchObject({ team_alias: 'renamed', rpm_limit: 50, max_budget: 4 });
    const raise = await call('/team/update', { team_id: 'team-admin-edit', max_budget: 20 }, alice);
    expect(raise.status).toBe(403);
    expect(raise.body.error.message).toBe("Only a proxy admin can raise a team's max_budget. Team's current max_budget=4.0, requested=20.0.");
    expect((await call('/team/update', { team_id: 'team-admin-edit', blocked: true }, alice)).status).toBe(403);
    expect((await call('/team/update', { team_id: 'team-admin-edit', team_alias: 'x' }, carol)).status).toBe(403);
    expect((await call('/team/update', { team_id: 'team-dup', team_alias: 'x' }, alice)).status).toBe(403);
    expect((await call('/team/update', { team_id: 'team-dup', team_alias: 'x' }, null)).status).toBe(401);
  });
});

describe('POST /team/model/add and /team/model/delete', () => {
  it("change the team's model list, answered with the team, and its keys' very next calls follow it", async () => {
    await ok('/team/new', { team_id: 'team-models', models: ['other-model'], members_with_roles: [{ role: 'admin', user_id: 'alice' }, { role: 'user', user_id: 'carol' }] });
    const key = await seedKey(stack.databaseUrl, { teamId: 'team-models' });
    await expect(chat(key)).rejects.toMatchObject({ status: 401 });

    const added = await ok('/team/model/add', { team_id: 'team-models', models: ['mock-gpt', 'other-model'] });
    expect(added).toMatchObject({ team_id: 'team-models', models: ['other-model', 'mock-gpt'] });
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
    const [audit] = (await audits('team-models')).slice(-1);
    expect(audit).toMatchObject({ action: 'updated', before_value: { models: ['other-model'] }, updated_values: { models: ['other-model', 'mock-gpt'] } });

    // A team admin may change their team's models; a member may not.
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await call('/team/model/delete', { team_id: 'team-models', models: ['mock-gpt'] }, carol)).status).toBe(403);
    expect(await ok('/team/model/delete', { team_id: 'team-models', models: ['mock-gpt', 'never-there'] }, alice)).toMatchObject({ models: ['other-model'] });
    await expect(chat(key)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses to take out the last model (an empty list would mean every model), unknown teams and bad bodies', async () => {
    await ok('/team/new', { team_id: 'team-one-model', models: ['mock-gpt'] });
    const last = await call('/team/model/delete', { team_id: 'team-one-model', models: ['mock-gpt'] });
    expect(last.status).toBe(400);
    expect(last.body.error.param).toBe('models');
    expect((await rows(`SELECT models FROM "LiteLLM_TeamTable" WHERE team_id = 'team-one-model'`))[0]?.models).toEqual(['mock-gpt']);
    expect((await call('/team/model/add', { team_id: 'no-such-team', models: ['mock-gpt'] })).status).toBe(404);
    expect((await call('/team/model/add', { team_id: 'team-one-model', models: [] })).status).toBe(422);
    expect((await call('/team/model/add', { team_id: 'team-one-model' })).status).toBe(422);
  });
});

describe('GET /v2/team/list', () => {
  it('pages the teams, filtered and sorted, with LiteLLM\'s totals; a user sees its own teams only', async () => {
    for (const [id, alias, budget, org] of [['v2-a', 'V2 Alpha', 10, 'org-1'], ['v2-b', 'v2 beta', 30, null], ['v2-c', 'V2_Gamma', 20, 'org-1']] as const) {
      await ok('/team/new', { team_id: id, team_alias: alias, max_budget: budget, ...(org ? { organization_id: org } : {}), members_with_roles: id === 'v2-b' ? [{ role: 'user', user_id: 'carol' }] : [] });
    }
    const page = await ok('/v2/team/list?team_alias=v2&sort_by=max_budget&sort_order=desc&page_size=2');
    expect(page).toMatchObject({ total: 3, page: 1, page_size: 2, total_pages: 2 });
    expect(page.teams.map((t: Json) => t.team_id)).toEqual(['v2-b', 'v2-c']);
    expect(Object.keys(page.teams[0]).sort()).toEqual(TEAM_FIELDS);
    expect((await ok('/v2/team/list?team_alias=v2&sort_by=max_budget&sort_order=desc&page_size=2&page=2')).teams.map((t: Json) => t.team_id)).toEqual(['v2-a']);
    // `_` in the alias filter is an underscore, not any character.
    expect((await ok('/v2/team/list?team_alias=v2_')).teams.map((t: Json) => t.team_id)).toEqual(['v2-c']);
    expect((await ok('/v2/team/list?team_alias=v2&organization_id=org-1&sort_by=team_id')).teams.map((t: Json) => t.team_id)).toEqual(['v2-a', 'v2-c']);
    expect((await ok('/v2/team/list?team_alias=v2&organization_id=default_organization')).teams.map((t: Json) => t.team_id)).toEqual(['v2-b']);
    expect((await ok('/v2/team/list?team_id=v2-a')).total).toBe(1);
    expect((await ok('/v2/team/list?status=deleted')).total).toBe(0);

    const carol = await seedKey(stack.databaseUrl, { userId: 'carol' });
    const own = await ok('/v2/team/list?team_alias=v2', undefined, carol);
    expect(own.teams.map((t: Json) => t.team_id)).toEqual(['v2-b']);
    expect((await call('/v2/team/list?user_id=alice', undefined, carol)).status).toBe(403);
    expect((await call('/v2/team/list?page_size=101')).status).toBe(422);
    expect((await call('/v2/team/list?sort_by=team_spend')).status).toBe(422);
  });
});
