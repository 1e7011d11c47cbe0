import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeIdp } from './fakes/jwks.ts';
import type { FakeOidc } from './fakes/oidc-endpoints.ts';
import type { TestStack } from './support/stack.ts';
import { type Answer, rawChat, startUserinfoStack, stopUserinfoStack, userinfoConfigYaml } from './support/userinfo-stack.ts';

/**
 * OIDC UserInfo's budget for never-seen access tokens on a live stack (use_x_forwarded_for, so the client's address
 * is known from X-Forwarded-For): one client address gets at most 10 at once (then 5 a second), the instance 50 at
 * once (then 20 a second); past it a 503 with retry-after 1 and no provider call, not remembered. A credential that
 * is not visible ASCII is a 401 before any call; an identity larger than 256 KB is a 503, read no further.
 * The usual flow: jwt-issuers-userinfo; the other bounds: jwt-issuers-userinfo-limits.
 */

let idp: FakeIdp;
let oidc: FakeOidc;
let stack: TestStack;

beforeAll(async () => {
  ({ idp, oidc, stack } = await startUserinfoStack('k-1', (o) => userinfoConfigYaml(o.userinfoUrl, '', '  use_x_forwarded_for: true\n')));
});
afterAll(() => stopUserinfoStack({ stack, oidc, idp }));

/** One chat call with a raw fetch and any headers (the key, X-Forwarded-For), to read the answer's headers too. */
const call = (headers: Record<string, string>, path?: string): Promise<Answer> => rawChat(stack, headers, path);

const as = (token: string, ip?: string) => call({ authorization: `Bearer ${token}`, ...(ip ? { 'x-forwarded-for': ip } : {}) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const overBudget = (a: Answer) => a.status === 503 && a.retryAfter === '1' && !!a.error?.message.includes('more new access tokens than this gateway instance allows');

describe('the budget for never-seen access tokens', () => {
  it('one client address gets 10 at once: the rest are 503s with no provider call, while another address is served', async () => {
    oidc.issue('at-other-client', { sub: 'ui-other', groups: ['team-ui'] });
    const asked = oidc.userinfoRequests;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => as(`at-client-${String(i).padStart(4, '0')}`, '203.0.113.9')));
    const elapsed = (Date.now() - started) / 1000;
    const refused = answers.filter(overBudget);
    expect(answers.filter((a) => !overBudget(a)).every((a) => a.status === 401)).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(20 - 10 - Math.ceil(elapsed * 5));
    expect(oidc.userinfoRequests - asked).toBe(20 - refused.length);
    expect((await as('at-other-client', '203.0.113.10')).status).toBe(200);
  });

  it('a 503 for the budget is not remembered: the same token is asked about once the budget refills', async () => {
    await sleep(2_100);
    const before = oidc.userinfoRequests;
    const burst = await Promise.all(Array.from({ length: 14 }, (_, i) => as(`at-again-${String(i).padStart(4, '0')}`, '203.0.113.11')));
    const index = burst.findIndex(overBudget);
    expect(index).toBeGreaterThanOrEqual(0);
    await sleep(1_100);
    const asked = oidc.userinfoRequests;
    expect(asked - before).toBe(burst.filter((a) => !overBudget(a)).length);
    oidc.issue(`at-again-${String(index).padStart(4, '0')}`, { sub: 'ui-again', groups: ['team-ui'] });
    expect((await as(`at-again-${String(index).padStart(4, '0')}`, '203.0.113.11')).status).toBe(200);
    expect(oidc.userinfoRequests).toBe(asked + 1);
  });

  it('the instance gets 50 at once from unknown addresses, then 20 a second', async () => {
    await sleep(2_600);
    const asked = oidc.userinfoRequests;
    const started = Date.now();
    const answers: Answer[] = [];
    // Waves of 30, under the 32 calls in flight, so only the budget can refuse.
    for (let wave = 0; wave < 3; wave++) answers.push(...await Promise.all(Array.from({ length: 30 }, (_, i) => as(`at-wave-${wave}-${String(i).padStart(4, '0')}`))));
    const elapsed = (Date.now() - started) / 1000;
    const made = oidc.userinfoRequests - asked;
    expect(made).toBe(answers.filter((a) => a.status === 401).length);
    expect(made).toBeLessThanOrEqual(50 + Math.ceil(elapsed * 20));
    expect(answers.filter(overBudget).length).toBe(90 - made);
  }, 30_000);
});

describe('what is refused or read no further', () => {
  it('a credential that is not visible ASCII (a newline from ?key=, a space, a non-ASCII letter) is a 401 with no provider call', async () => {
    await sleep(600);
    const asked = oidc.userinfoRequests;
    const newline = await call({}, '/v1beta/models/mock-gpt:generateContent?key=abc%0Adef');
    const spaced = await as('at two words');
    const accented = await call({ 'x-api-key': 'at-caf\u00e9' });
    for (const out of [newline, spaced, accented]) {
      expect(out.status).toBe(401);
      expect(out.error?.type).toBe('auth_error');
      expect(out.error?.message).toContain('characters other than visible ASCII');
    }
    expect(oidc.userinfoRequests).toBe(asked);
  });

  it('an identity larger than 256 KB is a 503, whether its content-length says so or it is streamed', async () => {
    const huge = JSON.stringify({ sub: 'ui-huge', groups: ['team-ui'], padding: 'x'.repeat(300_000) });
    try {
      oidc.answerWith(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(huge)) }, huge);
      const declared = await as('at-huge-0001');
      oidc.answerWith(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, huge);
      const streamed = await as('at-huge-0002');
      for (const out of [declared, streamed]) {
        expect(out.status).toBe(503);
        expect(out.error?.message).toContain('answered more than 256 KB');
      }
      // Within the limit, the same shape of answer is an identity.
      const fits = JSON.stringify({ sub: 'ui-fits', groups: ['team-ui'], padding: 'x'.repeat(200_000) });
      oidc.answerWith(200, { 'content-type': 'application/json' }, fits);
      expect((await as('at-fits-0001')).status).toBe(200);
    } finally {
      oidc.setMode('ok');
    }
  });
});
