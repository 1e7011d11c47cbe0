import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, BUDGET_FIELDS, adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
const { call, ok, rows, audits, count } = adminClient(() => stack);

const CUSTOMER_FIELDS = ['alias', 'allowed_model_region', 'blocked', 'budget_id', 'created_at', 'default_model', 'litellm_budget_table', 'metadata', 'spend', 'updated_at', 'user_id'];

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by) VALUES ('free_tier', 1, 'seed', 'seed')`);
});
afterAll(async () => stack?.stop());

// Every customer route answers under LiteLLM's older /end_user/* name too.
for (const prefix of ['/customer', '/end_user']) {
  const id = (name: string) => `${prefix.slice(1)}-${name}`;

  describe(`${prefix}/*`, () => {
    it('creates a customer with an inline budget (a budget row is made and linked)', async () => {
      const body = await ok(`${prefix}/new`, {
        user_id: id('a'), alias: 'Acme', max_budget: 10, budget_duration: '1d', tpm_limit: 500, allowed_model_region: 'eu',
        default_model: 'mock-gpt', metadata: { plan: 'pro' },
      });
      expect(Object.keys(body).sort()).toEqual(CUSTOMER_FIELDS);
      expect(body).toMatchObject({ user_id: id('a'), alias: 'Acme', blocked: false, spend: 0, allowed_model_region: 'eu', default_model: 'mock-gpt', metadata: { plan: 'pro' } });
      expect(Object.keys(body.litellm_budget_table).sort()).toEqual(BUDGET_FIELDS);
      const now = new Date();
      expect(body.litellm_budget_table).toMatchObject({
        budget_id: body.budget_id, max_budget: 10, tpm_limit: 500, budget_duration: '1d', created_by: 'default_user_id',
        budget_reset_at: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString(),
      });
      expect((await audits(id('a')))[0]).toMatchObject({ action: 'created', table_name: 'LiteLLM_EndUserTable' });
      expect((await audits(body.budget_id))[0]).toMatchObject({ action: 'created', table_name: 'LiteLLM_BudgetTable' });
    });

    it('links an existing budget by id', async () => {
      const body = await ok(`${prefix}/new`, { user_id: id('b'), budget_id: 'free_tier' });
      expect(body).toMatchObject({ budget_id: 'free_tier', litellm_budget_table: { budget_id: 'free_tier', max_budget: 1 } });
    });

    it('refuses bad input, unknown budgets and duplicates, writing nothing', async () => {
      const customers = await count('LiteLLM_EndUserTable');
      const budgets = await count('LiteLLM_BudgetTable');
      for (const [body, param] of [[{ alias: 'x' }, 'user_id'], [{ user_id: id('x'), allowed_model_region: 'mars' }, 'allowed_model_region'],
        [{ user_id: id('x'), max_budget: 'ten' }, 'max_budget'], [{ user_id: id('x'), blocked: 'no' }, 'blocked'], [{ user_id: 7 }, 'user_id'],
        [{ user_id: id('x'), default_model: 'no-such-model' }, 'default_model']] as const) {
        const res = await call(`${prefix}/new`, body);
        expect(res.status, param).toBe(422);
        expect(res.body.error.param).toBe(param);
      }
      for (const [body, param] of [[{ user_id: id('x'), max_budget: -1 }, 'max_budget'], [{ user_id: id('x'), budget_id: 'nope' }, 'budget_id'],
        [{ user_id: id('x'), budget_id: 'free_tier', max_budget: 3 }, 'budget_id'], [{ user_id: id('a') }, 'user_id']] as const) {
        const res = await call(`${prefix}/new`, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error).toMatchObject({ type: 'bad_request_error', param });
      }
      expect((await call(`${prefix}/new`, { user_id: id('a') })).body.error.message)
        .toBe(`Customer already exists, passed user_id=${id('a')}. Please pass a new user_id.`);
      expect(await count('LiteLLM_EndUserTable')).toBe(customers);
      expect(await count('LiteLLM_BudgetTable')).toBe(budgets);
    });

    it('reads one customer and lists them all', async () => {
      const info = await ok(`${prefix}/info?end_user_id=${id('a')}`);
      expect(Object.keys(info).sort()).toEqual(CUSTOMER_FIELDS);
      expect(info).toMatchObject({ user_id: id('a'), litellm_budget_table: { max_budget: 10 } });
      const missing = await call(`${prefix}/info?end_user_id=nobody`);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({ type: 'not_found_error', message: 'End User Id=nobody does not exist in db' });
      expect((await call(`${prefix}/info`)).status).toBe(422);
      const list = await ok(`${prefix}/list`);
      expect(list.map((c: Json) => c.user_id)).toEqual(expect.arrayContaining([id('a'), id('b')]));
      expect(list.find((c: Json) => c.user_id === id('b')).litellm_budget_table.budget_id).toBe('free_tier');
    });

    it('updates only the given fields, editing or creating the budget row', async () => {
      const before = await ok(`${prefix}/info?end_user_id=${id('a')}`);
      const body = await ok(`${prefix}/update`, { user_id: id('a'), max_budget: 20, alias: null });
      expect(body).toMatchObject({ user_id: id('a'), alias: null, budget_id: before.budget_id, allowed_model_region: 'eu', litellm_budget_table: { max_budget: 20, tpm_limit: 500 } });
      const relinked = await ok(`${prefix}/update`, { user_id: id('a'), budget_id: 'free_tier' });
      expect(relinked.litellm_budget_table).toMatchObject({ budget_id: 'free_tier', max_budget: 1 });
      const fresh = await ok(`${prefix}/new`, { user_id: id('c') });
      expect(fresh).toMatchObject({ budget_id: null, litellm_budget_table: null });
      const budgeted = await ok(`${prefix}/update`, { user_id: id('c'), rpm_limit: 5 });
      expect(budgeted.litellm_budget_table).toMatchObject({ rpm_limit: 5, max_budget: null });
      expect((await call(`${prefix}/update`, { user_id: 'nobody', alias: 'x' })).status).toBe(404);
      expect((await call(`${prefix}/update`, { user_id: id('a'), budget_id: 'nope' })).status).toBe(400);
      expect((await audits(id('a'))).map((a) => a.action)).toEqual(['created', 'updated', 'updated']);
    });

    it('blocks (creating unknown customers) and unblocks', async () => {
      const blocked = await ok(`${prefix}/block`, { user_ids: [id('a'), id('new-blocked')] });
      expect(blocked.blocked_users.map((c: Json) => [c.user_id, c.blocked]).sort()).toEqual([[id('a'), true], [id('new-blocked'), true]]);
      expect(Object.keys(blocked.blocked_users[0]).sort()).toEqual(CUSTOMER_FIELDS);
      const unblocked = await ok(`${prefix}/unblock`, { user_ids: [id('a')] });
      expect(unblocked.unblocked_users.map((c: Json) => [c.user_id, c.blocked])).toEqual([[id('a'), false]]);
      expect((await call(`${prefix}/unblock`, { user_ids: ['nobody'] })).status).toBe(404);
      expect((await audits(id('a'))).map((a) => a.action).slice(-2)).toEqual(['blocked', 'unblocked']);
    });

    it('deletes customers, all or nothing', async () => {
      const missing = await call(`${prefix}/delete`, { user_ids: [id('c'), 'nobody'] });
      expect(missing.status).toBe(404);
      expect(await rows('SELECT user_id FROM "LiteLLM_EndUserTable" WHERE user_id = $1', [id('c')])).toHaveLength(1);
      expect(await ok(`${prefix}/delete`, { user_ids: [id('c'), id('new-blocked')] }))
        .toEqual({ deleted_customers: 2, message: `Successfully deleted customers with ids: ['${id('c')}', '${id('new-blocked')}']` });
      expect(await rows('SELECT user_id FROM "LiteLLM_EndUserTable" WHERE user_id = ANY($1)', [[id('c'), id('new-blocked')]])).toEqual([]);
      expect((await audits(id('c'))).at(-1)).toMatchObject({ action: 'deleted' });
    });

    it('is for proxy admins (reads also for admin viewers)', async () => {
      await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('viewer-${prefix.slice(1)}', 'proxy_admin_viewer')`);
      const plain = await seedKey(stack.databaseUrl, { userId: 'someone' });
      const viewer = await seedKey(stack.databaseUrl, { userId: `viewer-${prefix.slice(1)}` });
      for (const [path, body] of [[`${prefix}/new`, { user_id: id('z') }], [`${prefix}/update`, { user_id: id('a') }], [`${prefix}/delete`, { user_ids: [id('a')] }],
        [`${prefix}/block`, { user_ids: [id('a')] }], [`${prefix}/unblock`, { user_ids: [id('a')] }], [`${prefix}/info?end_user_id=${id('a')}`, undefined], [`${prefix}/list`, undefined]] as const) {
        expect((await call(path, body, null)).status, path).toBe(401);
        expect((await call(path, body, plain)).status, path).toBe(403);
      }
      expect((await call(`${prefix}/new`, { user_id: id('z') }, viewer)).status).toBe(403);
      expect((await ok(`${prefix}/info?end_user_id=${id('a')}`, undefined, viewer)).user_id).toBe(id('a'));
      expect((await ok(`${prefix}/list`, undefined, viewer)).length).toBeGreaterThan(0);
    });
  });
}

describe('parallel creation', () => {
  it('creates 10 end users in parallel', async () => {
    const bodies = await Promise.all(Array.from({ length: 10 }, (_, i) => ok('/end_user/new', { user_id: `parallel-${i}`, max_budget: i + 1 })));
    expect(bodies.map((b) => b.litellm_budget_table.max_budget)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(new Set(bodies.map((b) => b.budget_id)).size).toBe(10);
    expect(Number((await rows(`SELECT count(*) AS n FROM "LiteLLM_EndUserTable" WHERE user_id LIKE 'parallel-%'`))[0]?.n)).toBe(10);
  });

  it('answers one 400 when the same id is created twice at once', async () => {
    const results = await Promise.all([call('/customer/new', { user_id: 'race' }), call('/customer/new', { user_id: 'race' })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });
});
