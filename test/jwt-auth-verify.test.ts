import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claims, DEFAULT_KEYS, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { eventually } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// general_settings.enable_jwt_auth: which bearer tokens the gateway takes as signed by the IdP at JWT_PUBLIC_KEY_URL
// (signature, exp/nbf, JWT_AUDIENCE, JWT_ISSUER), and how it fetches and caches the IdP's keys. Who a token makes
// the caller (admin, team, user) is test/jwt-auth-identity.test.ts's.

const AUDIENCE = 'tollgate';
const ISSUER = 'https://login.example.test/realms/acme';
const configYaml = (enabled: boolean) => `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  enable_jwt_auth: ${enabled}
  litellm_jwtauth:
    admin_jwt_scope: litellm_proxy_admin
    team_id_jwt_field: client_id
    user_id_jwt_field: sub
    user_id_upsert: true
    public_key_ttl: 600
`;

interface ErrorBody { message: string; type: string; param: string | null; code: string }
interface Outcome { status: number; error?: ErrorBody }

/** One chat call with the official client; a refusal comes back as its status and error body. */
async function chat(stack: TestStack, token: string): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    return { status: response.status };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return { status: err.status, error: err.error as ErrorBody };
    throw err;
  }
}

/** A refusal in the OpenAI envelope that says nothing of the token, not even its signature. */
function expectTokenKeptOut(out: Outcome, token: string) {
  expect(Object.keys(out.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
  const text = JSON.stringify(out.error);
  expect(text).not.toContain(token);
  expect(text).not.toContain(token.split('.')[2] || token);
}

const now = () => Math.floor(Date.now() / 1000);
/** Valid for the main stack; the admin scope, so acceptance depends on no database row. */
const adminClaims = (extra: Claims = {}): Claims => ({
  iss: ISSUER, aud: AUDIENCE, sub: 'verify-admin', scope: 'openid litellm_proxy_admin', iat: now(), exp: now() + 300, ...extra,
});

let idp: FakeIdp;
let secondIdp: FakeIdp;
let stack: TestStack;

beforeAll(async () => {
  idp = await startFakeIdp({ keys: [...DEFAULT_KEYS, { kid: 'rsa-384', alg: 'RS384' }, { kid: 'rsa-512', alg: 'RS512' }, { kid: 'ps-256', alg: 'PS256' }] });
  secondIdp = await startFakeIdp({ keys: [{ kid: 'second-rsa-1', alg: 'RS256' }] });
  stack = await startTestStack({
    configYaml: configYaml(true),
    env: { JWT_PUBLIC_KEY_URL: `${idp.jwksUrl},${secondIdp.jwksUrl}`, JWT_AUDIENCE: AUDIENCE, JWT_ISSUER: ISSUER },
  });
});
afterAll(async () => {
  await stack?.stop();
  await idp?.close();
  await secondIdp?.close();
});

describe('signatures', () => {
  it('accepts tokens signed by any JWKS key with RS256, RS384, RS512, PS256, ES256 and EdDSA', async () => {
    for (const kid of ['rsa-1', 'rsa-384', 'rsa-512', 'ps-256', 'ec-1', 'ed-1']) {
      const out = await chat(stack, idp.sign(adminClaims(), { kid }));
      expect(out.status, `${kid}: ${JSON.stringify(out.error)}`).toBe(200);
    }
  });

  it('refuses forged tokens with a 401 auth_error that does not quote them', async () => {
    const claims = adminClaims();
    const forged = {
      'alg none': idp.unsigned(claims),
      'HS256 keyed with the RSA public key': idp.hmacWithPublicKey(claims),
      'a stranger\'s key under kid rsa-1': idp.signedByStranger(claims),
      'an unknown kid': idp.signedByStranger(claims, 'no-such-kid'),
      // A user's token raised to proxy admin by editing its payload.
      'a tampered payload': idp.tampered(adminClaims({ scope: 'openid' }), { scope: 'openid litellm_proxy_admin' }),
      // A signature no base64url decoder takes (one character past a multiple of four).
      'a malformed signature': `${idp.sign(claims).split('.').slice(0, 2).join('.')}.abcde`,
    };
    for (const [name, token] of Object.entries(forged)) {
      const out = await chat(stack, token);
      expect(out.status, name).toBe(401);
      expect(out.error, name).toMatchObject({ type: 'auth_error', message: expect.stringMatching(/^Authentication Error/) });
      expectTokenKeptOut(out, token);
    }
  });
});

describe('claims', () => {
  it('refuses expired, not-yet-valid and never-expiring tokens, and ones not for JWT_AUDIENCE or not from JWT_ISSUER', async () => {
    // An hour either way, so no clock-skew leeway can admit them.
    const bad: Record<string, Claims> = {
      expired: adminClaims({ iat: now() - 7200, exp: now() - 3600 }),
      'not yet valid': adminClaims({ nbf: now() + 3600 }),
      'another audience': adminClaims({ aud: 'someone-else' }),
      'no audience': adminClaims({ aud: undefined }),
      'another issuer': adminClaims({ iss: 'https://evil.example.test/' }),
      // Good forever, so never revocable: refused.
      'no expiry': adminClaims({ exp: undefined }),
    };
    for (const [name, claims] of Object.entries(bad)) {
      const token = idp.sign(claims);
      const out = await chat(stack, token);
      expect(out.status, name).toBe(401);
      expect(out.error, name).toMatchObject({ type: 'auth_error', message: expect.stringMatching(/^Authentication Error/) });
      expectTokenKeptOut(out, token);
    }
  });

  it('accepts an aud list that holds JWT_AUDIENCE, and a token inside its nbf..exp window', async () => {
    const token = idp.sign(adminClaims({ aud: ['account', AUDIENCE], nbf: now() - 60, exp: now() + 60 }));
    expect((await chat(stack, token)).status).toBe(200);
  });
});

describe('the IdP\'s keys', () => {
  it('takes keys from every JWKS in a comma-separated JWT_PUBLIC_KEY_URL', async () => {
    expect((await chat(stack, secondIdp.sign(adminClaims()))).status).toBe(200);
  });

  it('keeps them for public_key_ttl: known kids verify without a fetch, even while the IdP is down', async () => {
    expect((await chat(stack, idp.sign(adminClaims(), { kid: 'ec-1' }))).status).toBe(200);
    const fetched = idp.requests;
    try {
      idp.setMode('fail');
      for (const kid of ['rsa-1', 'ec-1', 'ed-1']) expect((await chat(stack, idp.sign(adminClaims(), { kid }))).status, kid).toBe(200);
      expect(idp.requests).toBe(fetched);
    } finally {
      idp.setMode('ok');
    }
  });

  it('fetches them again for a kid it has not seen, so a rotated key is taken without waiting out public_key_ttl', async () => {
    expect((await chat(stack, idp.sign(adminClaims()))).status).toBe(200);
    const fetched = idp.requests;
    idp.rotate();
    // Retried for a while: the gateway may space out refetches that unknown kids (the forgeries above) set off.
    await eventually(async () => ((await chat(stack, idp.sign(adminClaims(), { kid: 'rsa-2' }))).status === 200 ? true : undefined), 25_000);
    expect(idp.requests).toBeGreaterThan(fetched);
  });
});

describe('an IdP that is down before any key was fetched', () => {
  let downIdp: FakeIdp;
  let downStack: TestStack;
  beforeAll(async () => {
    downIdp = await startFakeIdp();
    downIdp.setMode('fail');
    downStack = await startTestStack({ configYaml: configYaml(true), env: { JWT_PUBLIC_KEY_URL: downIdp.jwksUrl, JWT_AUDIENCE: AUDIENCE, JWT_ISSUER: ISSUER } });
  });
  afterAll(async () => {
    await downStack?.stop();
    await downIdp?.close();
  });

  it('gets a 503 (the token may be good: not a 401), and calls succeed again once the IdP is back', async () => {
    const token = downIdp.sign(adminClaims());
    const out = await chat(downStack, token);
    expect(out.status).toBe(503);
    expectTokenKeptOut(out, token);
    expect(downIdp.requests).toBeGreaterThan(0);
    downIdp.setMode('ok');
    await eventually(async () => ((await chat(downStack, token)).status === 200 ? true : undefined));
  });
});

describe('enable_jwt_auth off', () => {
  let offStack: TestStack;
  beforeAll(async () => {
    offStack = await startTestStack({ configYaml: configYaml(false), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
  });
  afterAll(async () => offStack?.stop());

  it('takes a valid JWT for an unknown virtual key (401 token_not_found_in_db) and never asks the IdP', async () => {
    const fetched = idp.requests;
    const token = idp.sign(adminClaims());
    const out = await chat(offStack, token);
    expect(out.status).toBe(401);
    expect(out.error).toMatchObject({ type: 'token_not_found_in_db' });
    expectTokenKeptOut(out, token);
    expect(idp.requests).toBe(fetched);
  });
});
