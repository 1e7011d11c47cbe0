import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient, seedKeyFixture } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// A key's life after minting: deletion, rotation, blocking, and the audit log of each.

let stack: TestStack;
const { call, generate, plainKeys, rows, audits, keyRow, chat, auditLogFreeOfPlainKeys } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await seedKeyFixture(rows);
});
afterAll(async () => stack?.stop());

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

  it('lets a team admin rotate a key only to a user it may give keys to, as /key/update does', async () => {
    const bob = await seedKey(stack.databaseUrl, { userId: 'bob' });
    const k = await generate({ team_id: 'team-b' }, bob);
    // root is a proxy admin: a key of root's would carry that role into the admin API.
    const res = await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { user_id: 'root' }, bob);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain("A key's user_id must be your own (bob) or a member's of the key's team");
    expect(await keyRow(k.token)).toMatchObject({ user_id: 'bob', rotation_count: 0 });
    expect((await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { user_id: 'alice' }, bob)).body.user_id).toBe('alice');
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
    expect(plainKeys.length).toBeGreaterThan(5);
    const all = await auditLogFreeOfPlainKeys(['sk-rotated-custom-0002']);
    expect(all).toMatch(/regenerated/);
    expect(all).toMatch(/blocked/);
  });
});
