import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claims, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { type FakeOidc, startFakeOidc } from './fakes/oidc-endpoints.ts';
import { adminClient } from './support/admin.ts';
import { chatAs, JWT_GENERAL } from './support/jwt-stack.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * litellm_jwtauth.issuers on a live stack: a token's `iss` picks its entry, it is verified only with that entry's
 * keys (its `jwks_url`, or the issuer's OIDC discovery document) and audience, the entry's claim fields say who it
 * is, and a token whose `iss` no entry names goes to the global provider (JWT_PUBLIC_KEY_URL), as in LiteLLM. The
 * refusal of such a token without a global provider, and OIDC UserInfo: jwt-issuers-userinfo. Config: jwt-issuers-config.
 */

const ISSUER_A = 'https://login.a.example.test/realms/acme';
const GLOBAL_ISSUER = 'https://login.global.example.test';

let idpA: FakeIdp;
let idpB: FakeIdp;
let idpGlobal: FakeIdp;
let oidcB: FakeOidc;
let stack: TestStack;

const configYaml = () => `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.25, output_cost_per_token: 0.25}
${JWT_GENERAL}  litellm_jwtauth:
    admin_jwt_scope: litellm_proxy_admin
    team_id_jwt_field: client_id
    user_id_jwt_field: sub
    user_id_upsert: true
    team_id_upsert: true
    virtual_key_claim_field: azp
    end_user_id_jwt_field: _litellm_end_user_id
    issuers:
      - issuer: ${ISSUER_A}
        jwks_url: ${idpA.jwksUrl}
        audience: tollgate
        team_id_jwt_field: tenant.id
      - issuer: ${oidcB.issuer}
        audience: [tollgate, other-app]
        team_id_jwt_field: sub
        user_id_jwt_field: email
`;

beforeAll(async () => {
  idpA = await startFakeIdp({ keys: [{ kid: 'a-1', alg: 'RS256' }] });
  idpB = await startFakeIdp({ keys: [{ kid: 'b-1', alg: 'RS256' }] });
  idpGlobal = await startFakeIdp({ keys: [{ kid: 'g-1', alg: 'RS256' }] });
  oidcB = await startFakeOidc({ jwksUrl: idpB.jwksUrl });
  stack = await startTestStack({ configYaml: configYaml(), env: { JWT_PUBLIC_KEY_URL: idpGlobal.jwksUrl, JWT_AUDIENCE: 'tollgate' } });
});
afterAll(async () => {
  await stack?.stop();
  for (const server of [idpA, idpB, idpGlobal, oidcB]) await server?.close();
});

const { ok: admin, generate } = adminClient(() => stack);
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Claims): Claims => ({ aud: 'tollgate', iat: now(), exp: now() + 300, ...extra });
const loggedRow = (callId: string | null | undefined) => eventually(() => spendLogRow(stack.db.url, callId ?? ''));

describe('a token of a listed issuer', () => {
  it('is verified with its entry\'s keys and read with its claim fields: the team is the entry\'s claim, not the global one', async () => {
    const out = await chatAs(stack, idpA.sign(claims({ iss: ISSUER_A, sub: 'alice', client_id: 'not-a-team', tenant: { id: 'team-a' } })));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await loggedRow(out.callId)).toMatchObject({ team_id: 'team-a', user: 'alice' });
  });

  it('falls back to the global claim field when the entry\'s claim is absent, as LiteLLM does', async () => {
    const out = await chatAs(stack, idpA.sign(claims({ iss: ISSUER_A, sub: 'alice', client_id: 'team-a-fallback' })));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await loggedRow(out.callId)).toMatchObject({ team_id: 'team-a-fallback', user: 'alice' });
  });

  it('finds its keys through the issuer\'s OIDC discovery document when the entry names no jwks_url; any listed audience will do', async () => {
    const out = await chatAs(stack, idpB.sign(claims({ iss: oidcB.issuer, aud: ['other-app'], sub: 'team-b', email: 'bob@b.example' })));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await loggedRow(out.callId)).toMatchObject({ team_id: 'team-b', user: 'bob@b.example' });
    expect(oidcB.discoveryRequests).toBeGreaterThan(0);
  });

  // The global end_user_id_jwt_field names LiteLLM's internal _litellm_end_user_id: a global provider's token is read
  // by it, but an entry's token cannot fill it in itself (only the entry's own end_user_id_jwt_field may).
  it('cannot name itself through LiteLLM\'s internal claim names: a token\'s own _litellm_* claims are dropped', async () => {
    const out = await chatAs(stack, idpA.sign(claims({ iss: ISSUER_A, sub: 'mallory', client_id: 'team-mallory', _litellm_end_user_id: 'forged-customer', _litellm_team_id: 'team-a' })));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    const row = await loggedRow(out.callId);
    expect(row).toMatchObject({ team_id: 'team-mallory', user: 'mallory' });
    expect(row?.end_user).not.toBe('forged-customer');
    const global = await chatAs(stack, idpGlobal.sign(claims({ iss: GLOBAL_ISSUER, sub: 'gina', client_id: 'team-global', _litellm_end_user_id: 'customer-g' })));
    expect(global.status, JSON.stringify(global.error)).toBe(200);
    expect(await loggedRow(global.callId)).toMatchObject({ end_user: 'customer-g' });
  });
});

describe('what ties an iss to the keys that verified it', () => {
  // No JWT_ISSUER: the global provider's keys alone would take any iss, so only the entry's keys stand between a
  // token the global provider signs and issuer A's identity (and A's key mappings).
  it('refuses (401) a token claiming issuer A that another trusted provider signed, and spends nothing', async () => {
    for (const forged of [
      idpB.sign(claims({ iss: ISSUER_A, sub: 'eve', tenant: { id: 'team-forged' } })),
      idpGlobal.sign(claims({ iss: ISSUER_A, sub: 'eve', tenant: { id: 'team-forged' } })),
    ]) {
      const out = await chatAs(stack, forged);
      expect(out.status).toBe(401);
      expect(out.error).toMatchObject({ type: 'auth_error', code: '401' });
      expect(out.error?.message).toMatch(/Invalid JWT/);
      expect(JSON.stringify(out.error)).not.toContain(forged.split('.')[2]);
    }
    const teams = await admin('/team/list');
    expect(JSON.stringify(teams)).not.toContain('team-forged');
  });

  it('holds a token to its entry\'s audience (401 naming the entry), not the global JWT_AUDIENCE', async () => {
    const out = await chatAs(stack, idpA.sign(claims({ iss: ISSUER_A, aud: 'other-app', sub: 'alice', tenant: { id: 'team-a' } })));
    expect(out.status).toBe(401);
    expect(out.error?.message).toContain(`its audience is not this gateway's (litellm_jwtauth.issuers entry for ${ISSUER_A})`);
  });

  it('sends a token of an unlisted issuer to the global provider: its keys and the global claim fields', async () => {
    const ok = await chatAs(stack, idpGlobal.sign(claims({ iss: GLOBAL_ISSUER, sub: 'gina', client_id: 'team-global', tenant: { id: 'team-a' } })));
    expect(ok.status, JSON.stringify(ok.error)).toBe(200);
    expect(await loggedRow(ok.callId)).toMatchObject({ team_id: 'team-global', user: 'gina' });
    // Signed by issuer A's provider under an iss no entry lists: the global keys do not hold A's key.
    expect((await chatAs(stack, idpA.sign(claims({ iss: GLOBAL_ISSUER, sub: 'gina', client_id: 'team-global' })))).status).toBe(401);
  });
});

describe('a JWT → virtual key mapping scoped to an issuer', () => {
  it('admits issuer A\'s token as the key; the same claim signed by another provider under A\'s iss gets nothing', async () => {
    const { key } = await generate({ models: ['mock-gpt'] });
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'azp', jwt_claim_value: 'svc-a', jwt_issuer: ISSUER_A, key });
    const mapped = await chatAs(stack, idpA.sign(claims({ iss: ISSUER_A, azp: 'svc-a' })));
    expect(mapped.status, JSON.stringify(mapped.error)).toBe(200);
    expect((await loggedRow(mapped.callId)).api_key).toBe(sha256(key));
    for (const signer of [idpB, idpGlobal]) expect((await chatAs(stack, signer.sign(claims({ iss: ISSUER_A, azp: 'svc-a' })))).status).toBe(401);
    // The same client of another issuer is not the mapping's: without a team or user it names no one.
    expect((await chatAs(stack, idpB.sign(claims({ iss: oidcB.issuer, azp: 'svc-a' })))).status).toBe(401);
  });
});
