import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Changing many users at once (/user/bulk_update): each update on its own, or one for every user. Its own
// stack, as its all_users case touches every user there is.

let stack: TestStack;
const { call, ok, rows, audits } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('viewer', 'proxy_admin_viewer')`);
});
afterAll(async () => stack?.stop());

describe('POST /user/bulk_update', () => {
  it('applies each update on its own and names the ones refused; or one update to every user', async () => {
    for (const id of ['bulk-a', 'bulk-b']) await ok('/user/new', { user_id: id, auto_create_key: false });
    const res = await ok('/user/bulk_update', { users: [
      { user_id: 'bulk-a', max_budget: 3 }, { user_id: 'no-such-user', max_budget: 3 }, { user_id: 'bulk-b', max_budget: -1 }, { user_id: 'bulk-b', user_alias: 'B' },
    ] });
    expect(res).toMatchObject({ total_requested: 4, successful_updates: 2, failed_updates: 2 });
    expect(res.results.map((r: Json) => [r.user_id, r.success])).toEqual([['bulk-a', true], ['no-such-user', false], ['bulk-b', false], ['bulk-b', true]]);
    expect(res.results[0].updated_user).toMatchObject({ user_id: 'bulk-a', max_budget: 3 });
    expect(res.results[1].error).toBe('User not found, passed user_id=no-such-user');
    expect((await rows(`SELECT max_budget, user_alias FROM "LiteLLM_UserTable" WHERE user_id = 'bulk-b'`))[0]).toEqual({ max_budget: null, user_alias: 'B' });
    expect((await audits('bulk-a')).at(-1)).toMatchObject({ action: 'updated', updated_values: { max_budget: 3 } });

    const users = Number((await rows('SELECT count(*) AS n FROM "LiteLLM_UserTable"'))[0]?.n);
    const all = await ok('/user/bulk_update', { all_users: true, user_updates: { metadata: { reviewed: true } } });
    expect(all).toMatchObject({ total_requested: users, successful_updates: users, failed_updates: 0 });
    expect(Number((await rows(`SELECT count(*) AS n FROM "LiteLLM_UserTable" WHERE metadata->>'reviewed' = 'true'`))[0]?.n)).toBe(users);

    expect((await call('/user/bulk_update', { users: [{ user_id: 'bulk-a', max_budget: 1 }], all_users: true, user_updates: {} })).status).toBe(422);
    expect((await call('/user/bulk_update', { all_users: true })).status).toBe(422);
    expect((await call('/user/bulk_update', { all_users: true, user_updates: { user_email: 'x@example.com' } })).status).toBe(422);
    expect((await call('/user/bulk_update', { all_users: true, user_updates: { user_id: 'bulk-a' } })).status).toBe(422);
    const viewer = await seedKey(stack.databaseUrl, { userId: 'viewer' });
    expect((await call('/user/bulk_update', { users: [{ user_id: 'bulk-a', max_budget: 1 }] }, viewer)).status).toBe(403);
  });
});
