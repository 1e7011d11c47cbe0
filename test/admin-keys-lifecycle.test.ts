import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;
const { call, generate, plainKeys, rows, audits, keyRow, chat } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles) VALUES
    ('team-a', 'A', '{alice}', '[]'), ('team-b', 'B', '{}', '[{"role":"admin","user_id":"bob"},{"role":"user","user_id":"alice"}]')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('alice', 'internal_user')`);
  await rows(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget) VALUES ('budget-1', 42)`);
});
afterAll(async () => stack?.stop());

describe('GET /key/list', () => {
  it('pages hashes or full objects, sorted and filtered', async () => {
    const made = [];
    for (const alias of ['l-c', 'l-a', 'l-b']) made.push(await generate({ key_alias: alias, user_id: 'lister' }));
    const page1 = await call('/key/list?user_id=lister&size=2&sort_by=key_alias&sort_order=asc');
    expect(page1).toMatchObject({ status: 200, body: { total_count: 3, current_page: 1, total_pages: 2 } });
    const byAlias = Object.fromEntries(made.map((m) => [m.key_alias, m.token]));
    expect(page1.body.keys).toEqual([byAlias['l-a'], byAlias['l-b']]);
    const page2 = await call('/key/list?user_id=lister&size=2&page=2&sort_by=key_alias&sort_order=asc&return_full_object=true');
    expect(page2.body.keys).toHaveLength(1);
    expect(page2.body.keys[0]).toMatchObject({ token: byAlias['l-c'], key_alias: 'l-c', user_id: 'lister' });
    expect((await call(`/key/list?key_alias=l-b`)).body.keys).toEqual([byAlias['l-b']]);
    expect((await call('/key/list?size=101')).status).toBe(422);
    const own = await call('/key/list', undefined, made[0]?.key);
    expect(own.body.total_count).toBe(3);
    expect((await call('/key/list?user_id=someone-else', undefined, made[0]?.key)).status).toBe(403);
  });

  it('shows a team admin their team\'s keys', async () => {
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    await generate({ team_id: 'team-a', user_id: 'someone' });
    const team = await call('/key/list?team_id=team-a&return_full_object=true&size=100', undefined, alice);
    expect(team.status).toBe(200);
    expect(team.body.keys.every((k: Json) => k.team_id === 'team-a')).toBe(true);
    const [{ n }] = await rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE user_id = 'alice' OR team_id = 'team-a'`) as [Json];
    expect((await call('/key/list?include_team_keys=true', undefined, alice)).body.total_count).toBe(n);
  });
});

describe('GET /key/aliases', () => {
  it('pages the distinct aliases of the keys the caller may list, searched in any case', async () => {
    for (const [alias, user] of [['Zeta_Search', 'aliaser'], ['alpha-search', 'aliaser'], ['gamma-search', 'other-aliaser'], ['beta%search', 'other-aliaser']]) {
      await generate({ key_alias: alias, user_id: user });
    }
    const searched = await call('/key/aliases?search=SEARCH&size=3');
    expect(searched).toMatchObject({ status: 200, body: { aliases: ['alpha-search', 'beta%search', 'gamma-search'], total_count: 4, current_page: 1, total_pages: 2 } });
    expect((await call('/key/aliases?search=SEARCH&size=3&page=2')).body.aliases).toEqual(['Zeta_Search']);
    // LIKE's own characters are themselves: `%` matches only a percent sign, `_` only an underscore.
    expect((await call('/key/aliases?search=%25')).body.aliases).toEqual(['beta%search']);
    expect((await call('/key/aliases?search=a_s')).body.aliases).toEqual(['Zeta_Search']);
    // Another user's key sees the aliases of its own user's keys only.
    const own = (await generate({ user_id: 'aliaser' })).key;
    expect((await call('/key/aliases?search=search', undefined, own)).body.aliases).toEqual(['alpha-search', 'Zeta_Search']);
    expect((await call('/key/aliases?team_id=team-a', undefined, own)).body.aliases).toEqual([]);
    expect((await call('/key/aliases?size=101')).status).toBe(422);
    // A value Postgres cannot take (a NUL in a text) is the request's fault: a 400, not a 500.
    const nul = await call('/key/aliases?search=a%00b');
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toMatch(/^Invalid value in the request: .*0x00/);
  });
});

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

describe('POST /key/delete', () => {
  it('moves rows to the deleted table in one transaction', async () => {
    const a = await generate({ key_alias: 'del-a' });
    const b = await generate({ key_alias: 'del-b' });
    expect((await call('/key/delete', { keys: [a.key, 'sk-not-there-0000'] })).status).toBe(404);
    expect(await keyRow(a.token)).toBeDefined();
    const res = await call('/key/delete', { keys: [a.key] });
    expect(res).toMatchObject({ status: 200, body: { deleted_keys: [a.key] } });
    expect((await call('/key/delete', { key_aliases: ['del-b'] })).body).toEqual({ deleted_keys: ['del-b'] });
    for (const k of [a, b]) {
      expect(await keyRow(k.token)).toBeUndefined();
      const [copy] = await rows('SELECT * FROM "LiteLLM_DeletedVerificationToken" WHERE token = $1', [k.token]);
      expect(copy).toMatchObject({ key_alias: k.key_alias, deleted_by_api_key: sha256(TEST_MASTER_KEY) });
      expect((await audits(k.token)).map((r) => r.action)).toEqual(['created', 'deleted']);
    }
  });

  it('lets a user delete their own key, and nobody else\'s', async () => {
    const own = await generate({ user_id: 'erin' });
    const other = await generate({ user_id: 'frank' });
    expect((await call('/key/delete', { keys: [other.token] }, own.key)).status).toBe(403);
    expect(await keyRow(other.token)).toBeDefined();
    expect((await call('/key/delete', { keys: [own.token] }, own.key)).status).toBe(200);
    expect(await keyRow(own.token)).toBeUndefined();
  });
});

describe('POST /key/regenerate', () => {
  it('keeps the row with a new hash; the new key works', async () => {
    const k = await generate({ key_alias: 'rot', spend: 1.5, max_budget: 10, models: ['mock-gpt'] });
    const res = await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { max_budget: 20 });
    expect(res.status).toBe(200);
    plainKeys.push(res.body.key);
    expect(res.body).toMatchObject({ token: sha256(res.body.key), token_id: sha256(res.body.key), key_name: `sk-...${res.body.key.slice(-4)}`,
      key_alias: 'rot', spend: 1.5, max_budget: 20, models: ['mock-gpt'], rotation_count: 1 });
    expect(res.body.key).not.toBe(k.key);
    expect(res.body.last_rotation_at).toBeTruthy();
    expect(await keyRow(k.token)).toBeUndefined();
    // Without a grace period the old hash is revoked at once; its row stays, pointing at the new hash
    // (the gateway's limiter counts what the key spent under it in its budget_limits windows).
    const [old] = await rows('SELECT active_token_id, revoke_at FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [k.token]);
    expect(old?.active_token_id).toBe(res.body.token);
    expect(new Date(old?.revoke_at as string).getTime()).toBeLessThanOrEqual(Date.now());
    expect((await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${k.key}` } })).status).toBe(401);
    expect(await keyRow(res.body.token)).toMatchObject({ spend: 1.5, key_alias: 'rot', created_at: new Date(k.created_at) });
    expect((await chat(res.body.key)).choices[0]?.message.content).toBe('pong');
    expect((await audits(res.body.token))[0]).toMatchObject({ action: 'regenerated' });
  });

  it('keeps the old hash for a grace period, and validates new_key', async () => {
    const k = await generate({});
    const res = await call('/key/regenerate', { key: k.token, new_key: 'sk-rotated-custom-0002', grace_period: '24h' });
    expect(res.body).toMatchObject({ key: 'sk-rotated-custom-0002', token: sha256('sk-rotated-custom-0002') });
    const [dep] = await rows('SELECT * FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [k.token]);
    expect(dep?.active_token_id).toBe(sha256('sk-rotated-custom-0002'));
    expect(Math.abs(new Date(dep?.revoke_at).getTime() - Date.now() - 86_400_000)).toBeLessThan(60_000);
    const bad = await call('/key/regenerate', { key: 'sk-rotated-custom-0002', new_key: 'plain-0003' });
    expect(bad.body.error).toMatchObject({ type: 'bad_request_error', param: 'new_key', code: '400' });
    expect(await keyRow(sha256('sk-rotated-custom-0002'))).toMatchObject({ rotation_count: 1 });
    expect((await call('/key/regenerate', { key: 'sk-missing-0000000' })).status).toBe(404);
  });
});

describe('POST /key/block and /key/unblock', () => {
  it('flips the column; the gateway refuses a blocked key at once, and serves it again once unblocked', async () => {
    const k = await generate({});
    expect((await chat(k.key)).choices[0]?.message.content).toBe('pong');
    const blocked = await call('/key/block', { key: k.key });
    expect(blocked.body).toMatchObject({ token: k.token, blocked: true });
    expect((await keyRow(k.token))?.blocked).toBe(true);
    expect(await chat(k.key).catch((e: { status?: number }) => e.status)).toBe(403);
    const unblocked = await call('/key/unblock', { key: k.token });
    expect(unblocked.body).toMatchObject({ token: k.token, blocked: false });
    expect((await chat(k.key)).choices[0]?.message.content).toBe('pong');
    expect((await audits(k.token)).map((r) => r.action)).toEqual(['created', 'blocked', 'unblocked']);
    expect((await call('/key/block', { key: 'sk-missing-00000000' })).status).toBe(404);
  });
});

describe('the audit log of key changes', () => {
  it('never stores a plain key, for updates, rotations, blocks and deletes alike', async () => {
    const all = (await rows('SELECT row_to_json(a)::text AS j FROM "LiteLLM_AuditLog" a')).map((r) => r.j as string).join('\n');
    expect(all).toMatch(/regenerated/);
    expect(all).toMatch(/blocked/);
    expect(plainKeys.length).toBeGreaterThan(5);
    for (const key of [...plainKeys, 'sk-rotated-custom-0002', TEST_MASTER_KEY]) expect(all).not.toContain(key);
  });
});
