import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeIdp } from './fakes/jwks.ts';
import type { FakeOidc } from './fakes/oidc-endpoints.ts';
import { chatAs } from './support/jwt-stack.ts';
import type { TestStack } from './support/stack.ts';
import { type Answer, rawChat, startUserinfoStack, stopUserinfoStack, userinfoConfigYaml } from './support/userinfo-stack.ts';

/**
 * OIDC UserInfo alone (no JWT_PUBLIC_KEY_URL, no issuers) on a live stack, and what bounds the calls strangers' credentials
 * cause: a provider that is busy (429, 408) or redirects is a retryable 503 with its retry-after, not a 401; a refused
 * token or a rejected identity is refused from memory for a while (one provider call); past 32 calls in flight a new
 * token gets a 503 at once; a JWT is a 401 saying JWTs are not accepted. The usual UserInfo flow: jwt-issuers-userinfo.
 */

let idp: FakeIdp;
let oidc: FakeOidc;
let stack: TestStack;

beforeAll(async () => {
  ({ idp, oidc, stack } = await startUserinfoStack('k-1', (o) => userinfoConfigYaml(o.userinfoUrl)));
});
afterAll(() => stopUserinfoStack({ stack, oidc, idp }));

/** One chat call with a raw fetch, to read the answer's headers as well as its error. */
const call = (token: string): Promise<Answer> => rawChat(stack, { authorization: `Bearer ${token}` });

const now = () => Math.floor(Date.now() / 1000);

describe('a provider that cannot answer now', () => {
  it('a 429 or 408 is a retryable 503 with the provider\'s retry-after; a 400 or 403 is a 401; none is remembered', async () => {
    oidc.issue('at-busy-0001', { sub: 'ui-busy', groups: ['team-ui'] });
    try {
      oidc.answerWith(429, { 'retry-after': '7' });
      const limited = await call('at-busy-0001');
      expect(limited.status).toBe(503);
      expect(limited.error).toMatchObject({ type: 'auth_provider_unavailable', code: '503' });
      expect(limited.error?.message).toContain('answered 429');
      expect(limited.retryAfter).toBe('7');
      oidc.answerWith(408);
      expect((await call('at-busy-0001')).status).toBe(503);
      for (const status of [400, 403]) {
        oidc.answerWith(status);
        const refused = await call(`at-refused-${status}`);
        expect(refused.status).toBe(401);
        expect(refused.error?.message).toContain(`refused the access token (HTTP ${status})`);
      }
    } finally {
      oidc.setMode('ok');
    }
    // The 503s were the provider's trouble, not the token's: it goes through as soon as the provider answers.
    const asked = oidc.userinfoRequests;
    expect((await chatAs(stack, 'at-busy-0001')).status).toBe(200);
    expect(oidc.userinfoRequests).toBe(asked + 1);
  });

  it('a redirect is a 503 and is not followed, so the token goes nowhere oidc_userinfo_endpoint does not name', async () => {
    const asked = oidc.userinfoRequests;
    try {
      oidc.answerWith(302, { location: oidc.userinfoUrl });
      const out = await call('at-redirected-0001');
      expect(out.status).toBe(503);
      expect(out.error?.message).toContain('answered 302 (a redirect, not followed');
    } finally {
      oidc.setMode('ok');
    }
    expect(oidc.userinfoRequests).toBe(asked + 1);
  });
});

describe('what a stranger\'s credential costs', () => {
  it('a token the provider refused is refused from memory: the same bad token twice is one provider call', async () => {
    const asked = oidc.userinfoRequests;
    const first = await call('at-stranger-0001');
    const second = await call('at-stranger-0001');
    expect([first.status, second.status]).toEqual([401, 401]);
    expect(second.error).toEqual(first.error);
    expect(oidc.userinfoRequests).toBe(asked + 1);
    // Another token is asked about: the memory is per token.
    expect((await call('at-stranger-0002')).status).toBe(401);
    expect(oidc.userinfoRequests).toBe(asked + 2);
  });

  it('a token whose identity the gateway rejects (it names no team or user) is refused from memory too', async () => {
    oidc.issue('at-nobody-0001', { name: 'No One' });
    const asked = oidc.userinfoRequests;
    for (let i = 0; i < 2; i++) {
      const out = await call('at-nobody-0001');
      expect(out.status).toBe(401);
      expect(out.error?.message).toContain('names no team, user or admin scope');
    }
    expect(oidc.userinfoRequests).toBe(asked + 1);
  });

  it('past 32 UserInfo calls in flight, a new token gets a 503 at once instead of another call', async () => {
    const asked = oidc.userinfoRequests;
    oidc.setMode('hang');
    try {
      const hung = Array.from({ length: 32 }, (_, i) => call(`at-flood-${String(i).padStart(4, '0')}`));
      for (let i = 0; i < 100 && oidc.userinfoRequests < asked + 32; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(oidc.userinfoRequests).toBe(asked + 32);
      const started = Date.now();
      const over = await call('at-flood-over');
      expect(over.status).toBe(503);
      expect(over.error?.type).toBe('auth_provider_unavailable');
      expect(over.error?.message).toContain('32 other access tokens');
      expect(over.retryAfter).toBe('1');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(oidc.userinfoRequests).toBe(asked + 32);
      // The hung calls time out as 503s, and free their places.
      expect((await Promise.all(hung)).map((a) => a.status)).toEqual(Array(32).fill(503));
    } finally {
      oidc.setMode('ok');
    }
    oidc.issue('at-flood-over', { sub: 'ui-flood', groups: ['team-ui'] });
    expect((await chatAs(stack, 'at-flood-over')).status).toBe(200);
  }, 30_000);
});

describe('a JWT where only UserInfo is set up', () => {
  it('is a 401 saying JWTs are not accepted, not a server error, and is not sent to UserInfo', async () => {
    const asked = oidc.userinfoRequests;
    for (const token of [idp.sign({ iss: 'https://idp.example.test', sub: 'x', iat: now(), exp: now() + 300 }), 'a.b.c']) {
      const out = await chatAs(stack, token);
      expect(out.status).toBe(401);
      expect(out.error).toMatchObject({ type: 'auth_error', code: '401' });
      expect(out.error?.message).toContain('JWTs are not accepted');
    }
    expect(oidc.userinfoRequests).toBe(asked);
  });
});
