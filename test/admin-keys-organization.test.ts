import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, KEYS_CONFIG, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// A key's organization (which outranks its team's at request time), and the keys of proxy admins a team admin manages.

let stack: TestStack;
const { call, generate, rows, keyRow } = adminClient(() => stack);
let alice: string;

function expectRefused(res: { status: number; body: Json }, status: number, message: string | RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.message).toMatch(message);
}

const NOT_TEAMS = /^A key's organization_id must be its team's \(team_id=.*\), got organization_id=.*\. Only proxy admins can set another\. Your role=internal_user$/;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-a', 'A'), ('org-b', 'B')`);
  // alice administers team-a (org-a), team-b (org-b) and team-n (no organization).
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles, organization_id) VALUES
    ('team-a', 'A', '{alice}', '[{"role":"user","user_id":"root"},{"role":"user","user_id":"peek"},{"role":"user","user_id":"bob"}]', 'org-a'),
    ('team-b', 'B', '{alice}', '[]', 'org-b'), ('team-n', 'N', '{alice}', '[]', NULL)`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES
    ('alice', 'internal_user'), ('bob', 'internal_user'), ('root', 'proxy_admin'), ('peek', 'proxy_admin_viewer')`);
  alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
});
afterAll(async () => stack?.stop());

describe("a key's organization_id", () => {
  it('must exist, for every caller (LiteLLM\'s 400), on generate, update and regenerate', async () => {
    const message = 'Organization not found for organization_id=org-missing';
    expectRefused(await call('/key/generate', { organization_id: 'org-missing' }), 400, message);
    const k = await generate({ organization_id: 'org-b' });
    expect(k.organization_id).toBe('org-b');
    expectRefused(await call('/key/update', { key: k.key, organization_id: 'org-missing' }), 400, message);
    expectRefused(await call('/key/regenerate', { key: k.key, organization_id: 'org-missing' }), 400, message);
    expect((await keyRow(k.token))?.organization_id).toBe('org-b');
  });

  it("is its team's, or none, for a caller who is not a proxy admin, on generate, update, bulk update and regenerate", async () => {
    expectRefused(await call('/key/generate', { team_id: 'team-a', organization_id: 'org-b' }, alice), 403, NOT_TEAMS);
    expectRefused(await call('/key/generate', { team_id: 'team-n', organization_id: 'org-a' }, alice), 403, NOT_TEAMS);
    expect(await generate({ team_id: 'team-a', organization_id: 'org-a' }, alice)).toMatchObject({ organization_id: 'org-a' });
    const k = await generate({ team_id: 'team-a' }, alice);
    expectRefused(await call('/key/update', { key: k.key, organization_id: 'org-b' }, alice), 403, NOT_TEAMS);
    expectRefused(await call('/key/regenerate', { key: k.key, organization_id: 'org-b' }, alice), 403, NOT_TEAMS);
    const bulk = await call('/key/bulk_update', { keys: [{ key: k.key, organization_id: 'org-b' }] }, alice);
    expect(bulk.body.failed_updates).toEqual([{ key: k.token, key_info: null, failed_reason: expect.stringMatching(NOT_TEAMS) }]);
    expect((await keyRow(k.token))?.organization_id).toBeNull();
    expect((await call('/key/update', { key: k.key, organization_id: 'org-a' }, alice)).body.organization_id).toBe('org-a');
    // Moved to another team, the key may not keep an organization that is not the new team's.
    expectRefused(await call('/key/update', { key: k.key, team_id: 'team-b' }, alice), 403, NOT_TEAMS);
    expect((await call('/key/update', { key: k.key, team_id: 'team-b', organization_id: 'org-b' }, alice)).body).toMatchObject({ team_id: 'team-b', organization_id: 'org-b' });
    expect((await call('/key/update', { key: k.key, team_id: 'team-n', organization_id: null }, alice)).body).toMatchObject({ team_id: 'team-n', organization_id: null });
    // A proxy admin sets any organization that exists.
    expect((await call('/key/update', { key: k.key, organization_id: 'org-a' })).body.organization_id).toBe('org-a');
  });
});

describe("regenerating a key of a proxy admin's", () => {
  it('is for proxy admins: a team admin gets no plain key of a proxy admin or viewer, and the key stays as it was', async () => {
    for (const [user, role] of [['root', 'proxy_admin'], ['peek', 'proxy_admin_viewer']]) {
      const plain = await seedKey(stack.databaseUrl, { userId: user, teamId: 'team-a' });
      const stored = await keyRow(sha256(plain));
      for (const path of [`/key/${encodeURIComponent(plain)}/regenerate`, '/key/regenerate']) {
        expectRefused(await call(path, { key: plain, user_id: 'alice' }, alice), 403,
          `Only proxy admins can regenerate a key whose user is a ${role} (user_id=${user}). Your role=internal_user`);
      }
      expect(await keyRow(sha256(plain))).toEqual(stored);
      expect(await rows('SELECT 1 FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [sha256(plain)])).toEqual([]);
      const rotated = await call(`/key/${encodeURIComponent(plain)}/regenerate`, {});
      expect(rotated.status).toBe(200);
      expect(rotated.body.user_id).toBe(user);
    }
    // A member's key (or the team admin's own) is the team admin's to regenerate.
    const bobs = await seedKey(stack.databaseUrl, { userId: 'bob', teamId: 'team-a' });
    expect((await call(`/key/${encodeURIComponent(bobs)}/regenerate`, {}, alice)).status).toBe(200);
  });

  it('/key/update never hands a team admin a plain key (nor a new key value) of a proxy admin\'s key', async () => {
    const plain = await seedKey(stack.databaseUrl, { userId: 'root', teamId: 'team-a' });
    const res = await call('/key/update', { key: plain, key_alias: 'root-renamed', new_key: 'sk-chosen-by-alice', token: 'f'.repeat(64) }, alice);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.key).toBe(sha256(plain));
    expect(JSON.stringify(res.body)).not.toContain(plain);
    expect((await keyRow(sha256(plain)))?.key_alias).toBe('root-renamed');
    expect(await rows('SELECT 1 FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256('sk-chosen-by-alice')])).toEqual([]);
  });
});
