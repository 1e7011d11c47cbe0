import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_FIELDS, adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt}
litellm_settings: {timezone: Asia/Dubai}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

let stack: TestStack;
const { call, ok, rows, audits, count } = adminClient(() => stack);

/** Midnight tomorrow in Dubai (UTC+4, no DST) as an instant. */
function dubaiMidnightTomorrow(): string {
  const dubaiNow = new Date(Date.now() + 4 * 3_600_000);
  return new Date(Date.UTC(dubaiNow.getUTCFullYear(), dubaiNow.getUTCMonth(), dubaiNow.getUTCDate() + 1) - 4 * 3_600_000).toISOString();
}

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('viewer', 'proxy_admin_viewer'), ('plain', 'internal_user')`);
});
afterAll(async () => stack?.stop());

describe('/budget/*', () => {
  it('creates a raw budget row, its window aligned in litellm_settings.timezone', async () => {
    const body = await ok('/budget/new', {
      budget_id: 'tier-pro', max_budget: 100, soft_budget: 80, max_parallel_requests: 4, tpm_limit: 1000, rpm_limit: 10, budget_duration: '1d',
      model_max_budget: { 'mock-gpt': { budget_limit: 5, time_period: '1d' } },
    });
    expect(Object.keys(body).sort()).toEqual(BUDGET_FIELDS);
    expect(body).toMatchObject({
      budget_id: 'tier-pro', max_budget: 100, soft_budget: 80, max_parallel_requests: 4, tpm_limit: 1000, rpm_limit: 10, budget_duration: '1d',
      model_max_budget: { 'mock-gpt': { budget_limit: 5, time_period: '1d' } }, created_by: 'default_user_id', updated_by: 'default_user_id',
      budget_reset_at: dubaiMidnightTomorrow(), allowed_models: [],
    });
    const generated = await ok('/budget/new', { max_budget: 1, budget_reset_at: '2030-01-01T00:00:00Z' });
    expect(generated.budget_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.budget_reset_at).toBe('2030-01-01T00:00:00.000Z');
    expect((await audits('tier-pro'))[0]).toMatchObject({ action: 'created', table_name: 'LiteLLM_BudgetTable' });
  });

  it('refuses bad input and duplicates, writing nothing', async () => {
    const before = await count('LiteLLM_BudgetTable');
    for (const [req, param] of [[{ max_budget: 'x' }, 'max_budget'], [{ tpm_limit: 1.5 }, 'tpm_limit'], [{ budget_duration: 'daily' }, 'budget_duration'],
      [{ budget_reset_at: 'soon' }, 'budget_reset_at'], [{ model_max_budget: [] }, 'model_max_budget']] as const) {
      const res = await call('/budget/new', req);
      expect(res.status, param).toBe(422);
      expect(res.body.error.param).toBe(param);
    }
    for (const [req, param] of [[{ max_budget: -1 }, 'max_budget'], [{ soft_budget: -1 }, 'soft_budget'], [{ budget_id: 'tier-pro' }, 'budget_id']] as const) {
      const res = await call('/budget/new', req);
      expect(res.status, param).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param });
    }
    expect((await call('/budget/new', { budget_id: 'tier-pro' })).body.error.message).toBe("Budget with id 'tier-pro' already exists.");
    expect(await count('LiteLLM_BudgetTable')).toBe(before);
  });

  it('updates only the given fields', async () => {
    const body = await ok('/budget/update', { budget_id: 'tier-pro', max_budget: 200, soft_budget: null });
    expect(body).toMatchObject({ budget_id: 'tier-pro', max_budget: 200, soft_budget: null, tpm_limit: 1000, budget_duration: '1d' });
    expect((await call('/budget/update', { max_budget: 1 })).body.error).toMatchObject({ code: '400', message: 'budget_id is required' });
    expect((await call('/budget/update', { budget_id: 'nope', max_budget: 1 })).status).toBe(404);
    expect((await call('/budget/update', { budget_id: 'tier-pro', max_budget: -1 })).status).toBe(400);
    const audit = (await audits('tier-pro')).at(-1);
    expect(audit).toMatchObject({ action: 'updated', before_value: { max_budget: 100 }, updated_values: { max_budget: 200 } });
  });

  it('reads budgets: info by ids, list and settings', async () => {
    const info = await ok('/budget/info', { budgets: ['tier-pro', 'nope'] });
    expect(info.map((b: Json) => b.budget_id)).toEqual(['tier-pro']);
    expect((await call('/budget/info', { budgets: [] })).status).toBe(400);
    expect((await call('/budget/info', { budgets: 'tier-pro' })).status).toBe(422);
    const list = await ok('/budget/list');
    expect(list.length).toBe(await count('LiteLLM_BudgetTable'));
    const settings = await ok('/budget/settings?budget_id=tier-pro');
    expect(settings.map((s: Json) => [s.field_name, s.field_type, s.field_value])).toEqual([
      ['max_budget', 'Float', 200], ['soft_budget', 'Float', null], ['max_parallel_requests', 'Integer', 4], ['tpm_limit', 'Integer', 1000],
      ['rpm_limit', 'Integer', 10], ['model_max_budget', 'Object', { 'mock-gpt': { budget_limit: 5, time_period: '1d' } }], ['budget_duration', 'String', '1d'],
    ]);
    expect(settings[0]).toEqual({ field_name: 'max_budget', field_type: 'Float', field_description: expect.any(String), field_value: 200, stored_in_db: true, field_default_value: null });
    expect((await call('/budget/settings?budget_id=nope')).status).toBe(404);
  });

  it('deletes a budget; what used it keeps no budget', async () => {
    await ok('/budget/new', { budget_id: 'tier-gone', max_budget: 3 });
    await ok('/customer/new', { user_id: 'cust-gone', budget_id: 'tier-gone' });
    const body = await ok('/budget/delete', { id: 'tier-gone' });
    expect(body).toMatchObject({ budget_id: 'tier-gone', max_budget: 3 });
    expect(await rows(`SELECT budget_id FROM "LiteLLM_EndUserTable" WHERE user_id = 'cust-gone'`)).toEqual([{ budget_id: null }]);
    expect((await call('/budget/delete', { id: 'tier-gone' })).status).toBe(404);
    expect((await audits('tier-gone')).map((a) => a.action)).toEqual(['created', 'deleted']);
  });

  it('writes for proxy admins, reads also for admin viewers', async () => {
    const plain = await seedKey(stack.databaseUrl, { userId: 'plain' });
    const viewer = await seedKey(stack.databaseUrl, { userId: 'viewer' });
    for (const [path, body] of [['/budget/new', {}], ['/budget/update', { budget_id: 'tier-pro' }], ['/budget/delete', { id: 'tier-pro' }],
      ['/budget/info', { budgets: ['tier-pro'] }], ['/budget/list', undefined], ['/budget/settings?budget_id=tier-pro', undefined]] as const) {
      expect((await call(path, body, null)).status, path).toBe(401);
      expect((await call(path, body, plain)).status, path).toBe(403);
    }
    expect((await call('/budget/new', {}, viewer)).status).toBe(403);
    expect((await ok('/budget/list', undefined, viewer)).length).toBeGreaterThan(0);
    expect((await ok('/budget/info', { budgets: ['tier-pro'] }, viewer))).toHaveLength(1);
  });
});

describe('/openapi.json', () => {
  it('describes every principals route', async () => {
    const res = await fetch(`${stack.url}/openapi.json`);
    expect(res.status).toBe(200);
    const paths = (await res.json() as { paths: Record<string, Record<string, unknown>> }).paths;
    const described = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(described).toEqual(expect.arrayContaining([
      'post /team/new', 'post /team/update', 'post /team/delete', 'get /team/info', 'get /team/list', 'post /team/member_add', 'post /team/member_delete',
      'post /team/block', 'post /team/unblock', 'post /user/new', 'get /user/info', 'post /user/update', 'post /user/delete', 'get /user/list',
      'post /customer/new', 'get /customer/info', 'post /customer/update', 'post /customer/delete', 'post /customer/block', 'post /customer/unblock',
      'get /customer/list', 'post /organization/new', 'get /organization/info', 'patch /organization/update', 'delete /organization/delete',
      'get /organization/list', 'post /organization/member_add', 'post /budget/new', 'post /budget/update', 'post /budget/info', 'get /budget/list',
      'post /budget/delete', 'get /budget/settings',
    ]));
    expect(paths['/team/new']?.post).toMatchObject({ requestBody: { content: { 'application/json': { schema: { properties: { max_budget: expect.anything() } } } } } });
  });
});
