import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient, seedKeyFixture, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Changing keys in place: /key/update, /key/bulk_update and /team/key/bulk_update.

let stack: TestStack;
const { call, generate, plainKeys, rows, audits, keyRow, chat, auditLogFreeOfPlainKeys } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await seedKeyFixture(rows);
});
afterAll(async () => stack?.stop());

describe('POST /key/update', () => {
  it('changes fields, clears nulls, and audits with litellm-changed-by', async () => {
    const k = await generate({ key_alias: 'upd', rpm_limit: 10, max_budget: 1, metadata: { a: 1 } });
    const res = await call('/key/update', { key: k.key, rpm_limit: null, max_budget: 5, models: ['mock-gpt'], metadata: { b: 2 }, team_id: 'team-a' },
      TEST_MASTER_KEY, { headers: { 'litellm-changed-by': 'ops@example.com' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key: k.token, token: k.token, rpm_limit: null, max_budget: 5, models: ['mock-gpt'], metadata: { a: 1, b: 2 }, team_id: 'team-a', key_alias: 'upd' });
    expect(await keyRow(k.token)).toMatchObject({ rpm_limit: null, max_budget: 5, team_id: 'team-a' });
    expect((await audits(k.token)).at(-1)).toMatchObject({ action: 'updated', changed_by: 'ops@example.com', before_value: { rpm_limit: 10 }, updated_values: { rpm_limit: null } });
    const byAlias = await call('/key/update', { key_alias: 'upd', temp_budget_increase: 3, temp_budget_expiry: '2030-01-01T00:00:00Z' });
    expect(byAlias.body.metadata).toMatchObject({ temp_budget_increase: 3, temp_budget_expiry: '2030-01-01T00:00:00Z' });
  });

  it('refuses bad updates without changing anything', async () => {
    const k = await generate({ max_budget: 1 });
    expect((await call('/key/update', { key: k.key, max_budget: -2 })).status).toBe(400);
    expect((await call('/key/update', { key: k.key, temp_budget_increase: 1 })).status).toBe(400);
    expect((await call('/key/update', { key: k.key, team_id: 'nope' })).status).toBe(400);
    expect((await call('/key/update', { key: k.key, rpm_limit: 'x' })).body.error.param).toBe('rpm_limit');
    expect((await call('/key/update', { max_budget: 2 })).status).toBe(422);
    expect((await call('/key/update', { key: 'sk-missing-000000', max_budget: 2 })).status).toBe(404);
    const plain = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await call('/key/update', { key: k.key, max_budget: 2 }, plain)).status).toBe(403);
    expect((await keyRow(k.token))?.max_budget).toBe(1);
    expect(await audits(k.token)).toHaveLength(1);
  });
});

describe('POST /key/bulk_update', () => {
  it('applies each update on its own, naming the ones refused and why, and the keys\' next calls follow', async () => {
    const [a, b, c] = [await generate({ max_budget: 1 }), await generate({ max_budget: 1 }), await generate({ max_budget: 1 })];
    expect((await chat(a.key)).choices[0]?.message.content).toBe('pong');
    const res = await call('/key/bulk_update', { keys: [
      { key: a.key, models: ['other-model'], max_budget: 5 },
      { key: 'sk-missing-000000', max_budget: 2 },
      { key: b.token, max_budget: -1 },
      { key: c.key, tags: ['bulk'] },
    ] });
    expect(res.status).toBe(200);
    expect(res.body.total_requested).toBe(4);
    expect(res.body.successful_updates.map((u: Json) => [u.key, u.key_info.max_budget, u.key_info.tags])).toEqual([[a.token, 5, []], [c.token, 1, ['bulk']]]);
    expect(res.body.failed_updates).toEqual([
      { key: sha256('sk-missing-000000'), key_info: null, failed_reason: 'Key not found in database' },
      { key: b.token, key_info: null, failed_reason: expect.stringMatching(/max_budget/) },
    ]);
    expect(JSON.stringify(res.body)).not.toContain(a.key);
    expect((await keyRow(a.token))?.max_budget).toBe(5);
    expect((await keyRow(b.token))?.max_budget).toBe(1);
    expect((await audits(a.token)).at(-1)).toMatchObject({ action: 'updated', updated_values: { max_budget: 5 } });
    // The key's limiter was told: its next call is held to its new model list.
    await expect(chat(a.key)).rejects.toMatchObject({ status: 401 });
    // A value Postgres cannot take is that key's 400 reason, not an internal error.
    const nul = await call('/key/bulk_update', { keys: [{ key: c.key, key_alias: 'a\u0000b' }] });
    expect(nul.body.failed_updates[0]?.failed_reason).toMatch(/^Invalid value in the request: /);
    expect((await call('/key/bulk_update', { keys: [] })).status).toBe(422);
    expect((await call('/key/bulk_update', { keys: [{ max_budget: 1 }] })).status).toBe(422);
    const plain = await seedKey(stack.databaseUrl, { userId: 'carol' });
    const refused = await call('/key/bulk_update', { keys: [{ key: c.key, max_budget: 9 }] }, plain);
    expect(refused.body.failed_updates).toHaveLength(1);
    expect((await keyRow(c.token))?.max_budget).toBe(1);
  });
});

describe('POST /team/key/bulk_update', () => {
  it("applies one update to the named keys of a team, or all of them, by the team's admins; a key outside it is refused", async () => {
    // team-a's admin is alice (admins); bob administers team-b.
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins) VALUES ('team-bulk', 'Bulk', '{alice}') ON CONFLICT DO NOTHING`);
    const [k1, k2] = [await generate({ team_id: 'team-bulk', max_budget: 1 }), await generate({ team_id: 'team-bulk', max_budget: 1 })];
    const other = await generate({ team_id: 'team-b', max_budget: 1 });
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const all = await call('/team/key/bulk_update', { team_id: 'team-bulk', all_keys_in_team: true, update_fields: { max_budget: 7, tags: ['bulk'] } }, alice);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body.total_requested).toBe(2);
    expect(all.body.successful_updates.map((u: Json) => u.key).sort()).toEqual([k1.token, k2.token].sort());
    for (const k of [k1, k2]) expect(await keyRow(k.token)).toMatchObject({ max_budget: 7 });

    const named = await call('/team/key/bulk_update', { team_id: 'team-bulk', key_ids: [k1.key, other.token], update_fields: { rpm_limit: 5 } }, alice);
    expect(named.body.successful_updates.map((u: Json) => u.key)).toEqual([k1.token]);
    expect(named.body.failed_updates).toEqual([{ key: other.token, key_info: null, failed_reason: 'Key not found in team team-bulk' }]);
    expect((await keyRow(other.token))?.rpm_limit).toBeNull();

    // Never a key's team, owner or identity; one selection; the team's admins only.
    expect((await call('/team/key/bulk_update', { team_id: 'team-bulk', all_keys_in_team: true, update_fields: { team_id: 'team-b' } }, alice)).status).toBe(422);
    expect((await call('/team/key/bulk_update', { team_id: 'team-bulk', all_keys_in_team: true, update_fields: {} })).status).toBe(422);
    expect((await call('/team/key/bulk_update', { team_id: 'team-bulk', key_ids: [k1.key], all_keys_in_team: true, update_fields: { rpm_limit: 1 } })).status).toBe(422);
    expect((await call('/team/key/bulk_update', { team_id: 'team-b', all_keys_in_team: true, update_fields: { rpm_limit: 1 } }, alice)).status).toBe(403);
  });
});


describe('the audit log of key updates', () => {
  it('never stores a plain key', async () => {
    expect(plainKeys.length).toBeGreaterThan(5);
    await auditLogFreeOfPlainKeys();
  });
});
