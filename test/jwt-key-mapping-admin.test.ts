import { describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { sha256 } from './support/keys.ts';
import { chat, jwt, stack, untilStatus, useMappingStack } from './support/jwt-key-mapping-stack.ts';

/**
 * LiteLLM's `/jwt/key/mapping/*` API (proxy admins only, audited, the key stored as its hash and never shown),
 * on a gateway with `unregistered_jwt_client_behavior: reject`: a token without a mapping is refused with 403.
 */

useMappingStack('reject');
const { call, ok: admin, generate, rows, audits, count, auditLogFreeOfPlainKeys } = adminClient(() => stack);

const MAPPING_FIELDS = ['created_at', 'created_by', 'description', 'id', 'is_active', 'jwt_claim_name', 'jwt_claim_value', 'jwt_issuer', 'updated_at', 'updated_by'];

describe('/jwt/key/mapping/new, /info and /list', () => {
  it('maps a claim to an existing key, by the plain key or its hash, and never shows the key or its hash', async () => {
    const { key } = await generate({ models: ['gpt-mapped'] });
    const created = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-a', key, description: 'service A' });
    expect(Object.keys(created).sort()).toEqual(MAPPING_FIELDS);
    expect(created).toMatchObject({ jwt_claim_name: 'client_id', jwt_claim_value: 'svc-a', jwt_issuer: null, description: 'service A', is_active: true });
    const [stored] = await rows('SELECT token FROM "LiteLLM_JWTKeyMapping" WHERE id = $1', [created.id]);
    expect(stored?.token).toBe(sha256(key));
    const byHash = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-b', token: sha256(key), jwt_issuer: 'https://idp.example' });
    expect(byHash.jwt_issuer).toBe('https://idp.example');
    const info = await admin(`/jwt/key/mapping/info?id=${created.id}`);
    expect(info).toEqual(created);
    expect((await admin('/jwt/key/mapping/info?jwt_claim_name=client_id&jwt_claim_value=svc-a')).id).toBe(created.id);
    const list = await admin('/jwt/key/mapping/list?page=1&size=1');
    expect(list).toMatchObject({ total_count: 2, current_page: 1, total_pages: 2 });
    expect(list.mappings).toHaveLength(1);
    for (const answer of [created, byHash, info, list]) {
      expect(JSON.stringify(answer)).not.toContain(key);
      expect(JSON.stringify(answer)).not.toContain(sha256(key));
    }
    // Audited, without the key.
    expect((await audits(created.id)).map((a) => [a.action, a.table_name])).toEqual([['created', 'LiteLLM_JWTKeyMapping']]);
    await auditLogFreeOfPlainKeys();
    // The mapping's own rows name no key hash (the key's creation row is the key's).
    expect(JSON.stringify([...await audits(created.id), ...await audits(byHash.id)])).not.toContain(sha256(key));
  });

  it('refuses a key that does not exist, both key and token, a malformed hash, a duplicate claim, and bad fields, changing nothing', async () => {
    const { key } = await generate({});
    const before = await count('LiteLLM_JWTKeyMapping');
    const cases: [unknown, number, string][] = [
      [{ jwt_claim_name: 'client_id', jwt_claim_value: 'ghost', key: 'sk-never-issued' }, 400, 'does not match an existing virtual key'],
      [{ jwt_claim_name: 'client_id', jwt_claim_value: 'ghost', key, token: sha256(key) }, 400, 'only one of'],
      [{ jwt_claim_name: 'client_id', jwt_claim_value: 'ghost' }, 400, 'exactly one of'],
      [{ jwt_claim_name: 'client_id', jwt_claim_value: 'ghost', token: key }, 422, 'SHA-256 hash'],
      [{ jwt_claim_name: '', jwt_claim_value: 'ghost', key }, 422, 'jwt_claim_name'],
      [{ jwt_claim_name: 'client_id', jwt_claim_value: 7, key }, 422, 'jwt_claim_value'],
      [{ jwt_claim_name: 'client_id', jwt_claim_value: '', key }, 422, 'jwt_claim_value'],
      [{ jwt_claim_name: 'client_id', jwt_claim_value: 'bad\u0000value', key }, 422, 'NUL'],
      ['{not json', 400, 'Invalid JSON'],
    ];
    for (const [body, status, message] of cases) {
      const res = await call('/jwt/key/mapping/new', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error).toMatchObject({ message: expect.stringContaining(message), code: String(status) });
      expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(JSON.stringify(res.body)).not.toContain(key);
    }
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-dup', key });
    const dup = await call('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-dup', key });
    expect(dup.status).toBe(409);
    expect(await count('LiteLLM_JWTKeyMapping')).toBe(before + 1);
    expect((await call('/jwt/key/mapping/info?id=no-such-id')).status).toBe(404);
    expect((await call('/jwt/key/mapping/list?size=500')).status).toBe(422);
  });

  it('is for proxy admins: a virtual key and a JWT get 403 or 401, and nothing is written', async () => {
    const { key } = await generate({});
    const before = await count('LiteLLM_JWTKeyMapping');
    const asKey = await call('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-self', key }, key);
    expect(asKey.status).toBe(403);
    expect(asKey.body.error.message).toContain('Only proxy admins can');
    expect((await call('/jwt/key/mapping/list', undefined, key)).status).toBe(403);
    await admin('/team/new', { team_id: 'team-jwt' });
    const asJwt = await call('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-self', key }, jwt({ sub: 'someone', team_id: 'team-jwt' }));
    expect([401, 403]).toContain(asJwt.status);
    expect(await count('LiteLLM_JWTKeyMapping')).toBe(before);
    // The admin scope makes a proxy admin here too.
    const adminJwt = jwt({ sub: 'ops', scope: 'litellm_proxy_admin' });
    expect((await call('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-by-admin-jwt', key }, adminJwt)).status).toBe(200);
  });
});

describe('/jwt/key/mapping/update and /delete', () => {
  it('moves a mapping to another key, renames its claim, deletes it by id or by claim, each audited', async () => {
    const first = await generate({});
    const second = await generate({});
    const created = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-move', key: first.key });
    const moved = await admin('/jwt/key/mapping/update', { id: created.id, key: second.key, description: 'moved' });
    expect(moved).toMatchObject({ id: created.id, description: 'moved', jwt_claim_value: 'svc-move' });
    expect((await rows('SELECT token FROM "LiteLLM_JWTKeyMapping" WHERE id = $1', [created.id]))[0]?.token).toBe(sha256(second.key));
    expect((await call('/jwt/key/mapping/update', { id: created.id, key: 'sk-never-issued' })).status).toBe(400);
    expect((await call('/jwt/key/mapping/update', { id: 'no-such-id', description: 'x' })).status).toBe(404);
    const renamed = await admin('/jwt/key/mapping/update', { id: created.id, jwt_claim_value: 'svc-renamed' });
    expect(renamed.jwt_claim_value).toBe('svc-renamed');
    const other = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-other', key: first.key });
    expect((await call('/jwt/key/mapping/update', { id: other.id, jwt_claim_value: 'svc-renamed' })).status).toBe(409);
    expect(await admin('/jwt/key/mapping/delete', { id: created.id })).toEqual({ status: 'success' });
    expect(await admin('/jwt/key/mapping/delete', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-other' }, undefined, { method: 'DELETE' })).toEqual({ status: 'success' });
    expect((await call('/jwt/key/mapping/delete', { id: created.id })).status).toBe(404);
    expect((await call('/jwt/key/mapping/delete', {})).status).toBe(400);
    expect((await audits(created.id)).map((a) => a.action)).toEqual(['created', 'updated', 'updated', 'deleted']);
    await auditLogFreeOfPlainKeys();
    expect(JSON.stringify(await audits(created.id))).not.toMatch(new RegExp(`${sha256(first.key)}|${sha256(second.key)}`));
  });
});

describe('unregistered_jwt_client_behavior: reject', () => {
  it('refuses a token whose client has no mapping (or no client claim) with 403, even when its team exists; a mapped one calls', async () => {
    await admin('/team/new', { team_id: 'team-real' });
    const unmapped = await chat(jwt({ client_id: 'svc-unknown', team_id: 'team-real' }));
    expect(unmapped.status).toBe(403);
    // LiteLLM's words and param.
    expect(unmapped.error).toEqual({ message: "JWT Key Mapping: No registered mapping for client_id='svc-unknown'. Access denied.", type: 'auth_error', param: 'None', code: '403' });
    const noClaim = await chat(jwt({ team_id: 'team-real' }));
    expect(noClaim.status).toBe(403);
    expect(noClaim.error?.message).toContain("the claim 'client_id' is missing from the JWT");
    const { key } = await generate({ models: ['gpt-mapped'] });
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-known', key });
    expect((await untilStatus(() => chat(jwt({ client_id: 'svc-known' })), 200)).status).toBe(200);
    // A mapping for another issuer is not this token's.
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-other-idp', key, jwt_issuer: 'https://other-idp.example' });
    expect((await chat(jwt({ client_id: 'svc-other-idp' }))).status).toBe(403);
    expect((await chat(jwt({ client_id: 'svc-other-idp', iss: 'https://other-idp.example' }))).status).toBe(200);
  });
});

describe('a claim value is stored as given', () => {
  it('is not trimmed: a mapping for " svc-padded " is that value\'s, not "svc-padded"\'s', async () => {
    const { key } = await generate({ models: ['gpt-mapped'] });
    const created = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: ' svc-padded ', key });
    expect(created.jwt_claim_value).toBe(' svc-padded ');
    expect((await untilStatus(() => chat(jwt({ client_id: ' svc-padded ' })), 200)).status).toBe(200);
    expect((await chat(jwt({ client_id: 'svc-padded' }))).status).toBe(403);
  });
});

describe('a key a JWT is mapped to', () => {
  it('only a proxy admin may update, delete, regenerate, block, unblock or reset the spend of it: a team admin gets 403 and nothing changes', async () => {
    await admin('/user/new', { user_id: 'team-keeper' });
    await admin('/team/new', { team_id: 'team-bound', members_with_roles: [{ role: 'admin', user_id: 'team-keeper' }] });
    const { key: keeper } = await generate({ user_id: 'team-keeper' });
    const bound = await generate({ team_id: 'team-bound', models: ['gpt-mapped'] });
    const free = await generate({ team_id: 'team-bound', models: ['gpt-mapped'] });
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-bound', key: bound.key });
    const hash = sha256(bound.key);
    const before = await rows('SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [hash]);
    const attempts: [string, unknown][] = [
      ['/key/update', { key: bound.key, max_budget: 1 }],
      ['/key/delete', { keys: [bound.key] }],
      ['/key/regenerate', { key: bound.key }],
      ['/key/block', { key: bound.key }],
      ['/key/unblock', { key: bound.key }],
      [`/key/${encodeURIComponent(bound.key)}/reset_spend`, { reset_to: 0 }],
    ];
    for (const [path, body] of attempts) {
      const res = await call(path, body, keeper);
      expect(res.status, path).toBe(403);
      expect(res.body.error).toMatchObject({ type: 'auth_error', code: '403', message: expect.stringContaining('Only proxy admins can') });
      expect(res.body.error.message).toContain('a JWT is mapped to');
      expect(JSON.stringify(res.body)).not.toContain(bound.key);
    }
    expect(await rows('SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [hash])).toEqual(before);
    expect((await untilStatus(() => chat(jwt({ client_id: 'svc-bound' })), 200)).status).toBe(200);
    // The same team admin manages the team's unmapped key as before.
    expect((await call('/key/update', { key: free.key, max_budget: 1 }, keeper)).status).toBe(200);
    expect((await call('/key/block', { key: free.key }, keeper)).status).toBe(200);
    expect((await call(`/key/${encodeURIComponent(free.key)}/reset_spend`, { reset_to: 0 }, keeper)).status).toBe(200);
    expect((await call('/key/regenerate', { key: free.key }, keeper)).status).toBe(200);
    // A proxy admin still may.
    expect((await call('/key/update', { key: bound.key, max_budget: 2 })).status).toBe(200);
  });
});
