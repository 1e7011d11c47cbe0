import { describe, expect, it } from 'vitest';
import { AccessTokens, parseServiceAccount, REFRESH_MARGIN_MS, signAssertion } from '../worker/providers/vertex_ai/service-account.ts';
import { testServiceAccount, verifyAssertion } from './fakes/google.ts';

const TOKEN_URI = 'https://oauth2.example.test/token';
const account = testServiceAccount(TOKEN_URI);
const parsed = parseServiceAccount(account.json);

/** A token endpoint in a function: checks each assertion as the fake server does; can fail, or hold answers back. */
function tokenEndpoint(expiresIn = 3600) {
  const calls: { url: string; check: ReturnType<typeof verifyAssertion> }[] = [];
  let now = Date.parse('2025-03-01T10:00:00Z');
  let fail = false;
  let held: Promise<void> | undefined;
  let release = () => {};
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    await held;
    const check = verifyAssertion(new URLSearchParams(String(init?.body)), account, TOKEN_URI, now);
    calls.push({ url: String(input), check });
    if (fail) return new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }), { status: 400 });
    return Response.json({ access_token: `token-${calls.length}`, expires_in: expiresIn, token_type: 'Bearer' });
  }) as typeof globalThis.fetch;
  return {
    calls, fetch,
    now: () => now,
    advance: (ms: number) => void (now += ms),
    failNext: (value: boolean) => void (fail = value),
    hold: () => void (held = new Promise<void>((resolve) => (release = resolve))),
    resume: () => release(),
  };
}

describe('service account JWT', () => {
  it('is RS256-signed with the key\'s private key, for the token endpoint, for an hour', async () => {
    const now = Date.now();
    const jwt = await signAssertion(parsed, now);
    const check = verifyAssertion(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }), account, TOKEN_URI, now);
    const iat = Math.floor(now / 1000);
    expect(check).toEqual({
      ok: true,
      header: { alg: 'RS256', typ: 'JWT', kid: account.privateKeyId },
      claims: { iss: account.clientEmail, scope: 'https://www.googleapis.com/auth/cloud-platform', aud: TOKEN_URI, iat, exp: iat + 3600 },
    });
  });

  it('fails the fake\'s check when signed by another key', async () => {
    const other = parseServiceAccount(testServiceAccount(TOKEN_URI).json);
    const jwt = await signAssertion({ ...other, client_email: account.clientEmail }, Date.now());
    expect(verifyAssertion(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }), account, TOKEN_URI))
      .toEqual({ ok: false, reason: 'Invalid JWT Signature.' });
  });

  it('takes keys whose newlines were kept as "\\n" escapes, and refuses what is not a key', async () => {
    const escaped = parseServiceAccount(JSON.stringify({ ...JSON.parse(account.json), private_key: parsed.private_key.replace(/\n/g, '\\n') }));
    await expect(signAssertion(escaped, Date.now())).resolves.toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(() => parseServiceAccount('not json')).toThrow(/vertex_credentials is not JSON/);
    expect(() => parseServiceAccount('{"type":"service_account"}')).toThrow(/needs client_email and private_key/);
    await expect(signAssertion({ ...parsed, private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, Date.now())).rejects.toThrow(/not an RSA PKCS#8 key/);
  });
});

describe('access tokens', () => {
  it('are fetched once, kept until five minutes before they expire, then renewed', async () => {
    const endpoint = tokenEndpoint(3600);
    const tokens = new AccessTokens({ fetch: endpoint.fetch, now: endpoint.now });
    expect(await tokens.token(parsed, 'VertexAI', 'vertex_ai')).toBe('token-1');
    expect(endpoint.calls).toEqual([{ url: TOKEN_URI, check: expect.objectContaining({ ok: true }) }]);
    endpoint.advance(3600_000 - REFRESH_MARGIN_MS - 1);
    expect(await tokens.token(parsed, 'VertexAI', 'vertex_ai')).toBe('token-1');
    endpoint.advance(1);
    expect(await tokens.token(parsed, 'VertexAI', 'vertex_ai')).toBe('token-2');
    expect(endpoint.calls).toHaveLength(2);
  });

  it('are fetched once for requests that need one at the same time', async () => {
    const endpoint = tokenEndpoint();
    const tokens = new AccessTokens({ fetch: endpoint.fetch, now: endpoint.now });
    endpoint.hold();
    const waiting = [1, 2, 3].map(() => tokens.token(parsed, 'VertexAI', 'vertex_ai'));
    endpoint.resume();
    expect(await Promise.all(waiting)).toEqual(['token-1', 'token-1', 'token-1']);
    expect(endpoint.calls).toHaveLength(1);
  });

  it('are not cached when the exchange fails; the failure is a 401 in LiteLLM\'s words', async () => {
    const endpoint = tokenEndpoint();
    const tokens = new AccessTokens({ fetch: endpoint.fetch, now: endpoint.now });
    endpoint.failNext(true);
    const err = await tokens.token(parsed, 'VertexAI', 'vertex_ai').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, message: 'litellm.AuthenticationError: VertexAIException - could not get an access token: invalid_grant: Invalid JWT Signature.' });
    endpoint.failNext(false);
    expect(await tokens.token(parsed, 'VertexAI', 'vertex_ai')).toBe('token-2');
  });

  it('forget drops only the token a destination refused, never a newer one another request fetched meanwhile', async () => {
    const endpoint = tokenEndpoint();
    const tokens = new AccessTokens({ fetch: endpoint.fetch, now: endpoint.now });
    const refused = await tokens.token(parsed, 'gcs_bucket', 'gcs_bucket');
    // Two uploads got a 401 for token-1: the first forgets it and fetches token-2; the second's forget comes late.
    tokens.forget(parsed, refused);
    expect(await tokens.token(parsed, 'gcs_bucket', 'gcs_bucket')).toBe('token-2');
    tokens.forget(parsed, refused);
    expect(await tokens.token(parsed, 'gcs_bucket', 'gcs_bucket')).toBe('token-2');
    expect(endpoint.calls).toHaveLength(2);
    tokens.forget(parsed, 'token-2');
    expect(await tokens.token(parsed, 'gcs_bucket', 'gcs_bucket')).toBe('token-3');
  });
});
