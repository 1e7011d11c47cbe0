import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeIdp } from './fakes/jwks.ts';
import type { FakeOidc } from './fakes/oidc-endpoints.ts';
import { chatAs } from './support/jwt-stack.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { startUserinfoStack, stopUserinfoStack, userinfoConfigYaml } from './support/userinfo-stack.ts';

/**
 * OIDC UserInfo (litellm_jwtauth.oidc_userinfo_enabled) on a live stack, beside an issuers entry and no global
 * provider: an opaque access token is the identity the provider's UserInfo endpoint returns for it, kept for
 * oidc_userinfo_cache_ttl; a JWT is still verified with keys and never sent there; an `sk-` key (a virtual key, or
 * the master key, which LiteLLM requires to start with `sk-`) is never sent there either. The endpoint refusing the token is a 401, the endpoint down a 503.
 */

const ISSUER_A = 'https://login.a.example.test/realms/acme';
const TTL_SECONDS = 2;

let idpA: FakeIdp;
let oidc: FakeOidc;
let stack: TestStack;

const configYaml = (o: FakeOidc, idp: FakeIdp) => userinfoConfigYaml(o.userinfoUrl, `    oidc_userinfo_cache_ttl: ${TTL_SECONDS}
    issuers:
      - issuer: ${ISSUER_A}
        jwks_url: ${idp.jwksUrl}
        audience: tollgate
`);

beforeAll(async () => {
  ({ idp: idpA, oidc, stack } = await startUserinfoStack('a-1', configYaml));
});
afterAll(() => stopUserinfoStack({ stack, oidc, idp: idpA }));

const now = () => Math.floor(Date.now() / 1000);
const loggedRow = (callId: string | null | undefined) => eventually(() => spendLogRow(stack.db.url, callId ?? ''));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an opaque access token', () => {
  it('calls as the identity UserInfo returns for it, sent there as a Bearer token', async () => {
    oidc.issue('at-alice-0001', { sub: 'ui-alice', groups: ['team-ui'], email: 'alice@example.com' });
    const out = await chatAs(stack, 'at-alice-0001');
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await loggedRow(out.callId)).toMatchObject({ user: 'ui-alice', team_id: 'team-ui' });
    expect(oidc.authorizations.at(-1)).toBe('Bearer at-alice-0001');
  });

  it('is asked about once per oidc_userinfo_cache_ttl: a revoked token is refused once that has passed', async () => {
    oidc.issue('at-bob-0001', { sub: 'ui-bob', groups: ['team-ui'] });
    expect((await chatAs(stack, 'at-bob-0001')).status).toBe(200);
    const asked = oidc.userinfoRequests;
    expect((await chatAs(stack, 'at-bob-0001')).status).toBe(200);
    expect(oidc.userinfoRequests).toBe(asked);
    oidc.revoke('at-bob-0001');
    await sleep(TTL_SECONDS * 1000 + 300);
    const out = await chatAs(stack, 'at-bob-0001');
    expect(out.status).toBe(401);
    expect(oidc.userinfoRequests).toBe(asked + 1);
  });

  it('is refused with 401 in the OpenAI envelope when UserInfo refuses it, the token kept out of the error', async () => {
    const out = await chatAs(stack, 'at-unknown-0001');
    expect(out.status).toBe(401);
    expect(Object.keys(out.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(out.error).toMatchObject({ type: 'auth_error', code: '401' });
    expect(out.error?.message).toContain('UserInfo endpoint refused the access token');
    expect(JSON.stringify(out.error)).not.toContain('at-unknown-0001');
  });

  it('gets a 503 while UserInfo fails or does not answer, and goes through once it is back', async () => {
    oidc.issue('at-carol-0001', { sub: 'ui-carol', groups: ['team-ui'] });
    try {
      oidc.setMode('fail');
      const failed = await chatAs(stack, 'at-carol-0001');
      expect(failed.status).toBe(503);
      expect(failed.error).toMatchObject({ type: 'auth_provider_unavailable', code: '503' });
      expect(JSON.stringify(failed.error)).not.toContain('at-carol-0001');
      oidc.setMode('hang');
      expect((await chatAs(stack, 'at-carol-0001')).status).toBe(503);
    } finally {
      oidc.setMode('ok');
    }
    expect((await chatAs(stack, 'at-carol-0001')).status).toBe(200);
  }, 30_000);
});

describe('what is never sent to UserInfo', () => {
  it('an sk- key (the master key is one): the master key calls as itself, an unknown sk- key is the usual 401, neither asked about', async () => {
    const asked = oidc.userinfoRequests;
    expect((await chatAs(stack, TEST_MASTER_KEY)).status).toBe(200);
    const unknown = await chatAs(stack, 'sk-not-a-key-0001');
    expect(unknown.status).toBe(401);
    expect(unknown.error?.type).toBe('token_not_found_in_db');
    expect(oidc.userinfoRequests).toBe(asked);
  });

  it('a JWT: verified with its issuer entry\'s keys instead', async () => {
    const asked = oidc.userinfoRequests;
    const out = await chatAs(stack, idpA.sign({ iss: ISSUER_A, aud: 'tollgate', sub: 'jwt-dave', groups: ['team-jwt'], iat: now(), exp: now() + 300 }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await loggedRow(out.callId)).toMatchObject({ user: 'jwt-dave', team_id: 'team-jwt' });
    expect(oidc.userinfoRequests).toBe(asked);
  });

  it('a JWT whose iss no entry lists, with no global provider: 401, not a server error', async () => {
    const out = await chatAs(stack, idpA.sign({ iss: 'https://elsewhere.example.test', aud: 'tollgate', sub: 'x', iat: now(), exp: now() + 300 }));
    expect(out.status).toBe(401);
    expect(out.error?.message).toContain('its issuer is not one of litellm_jwtauth.issuers');
  });
});
