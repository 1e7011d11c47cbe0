import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claims, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { adminClient } from './support/admin.ts';
import { chatAs, jwtConfigYaml } from './support/jwt-stack.ts';
import { eventually } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * A JWT caller's team, user and organization as they change after its first call: a team deleted, created
 * late, or named with another organization; and what a JWT user's stored role does not give it. With
 * team_id_upsert on, so that a deleted team's coming back would show.
 */

let idp: FakeIdp;
let stack: TestStack;
const { call, ok: admin } = adminClient(() => stack);

beforeAll(async () => {
  idp = await startFakeIdp();
  stack = await startTestStack({ configYaml: jwtConfigYaml(true, true), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
});
afterAll(async () => {
  await stack?.stop();
  await idp?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const jwt = (claims: Claims) => idp.sign({ iat: now(), exp: now() + 300, ...claims });
const chat = (token: string, model = 'mock-gpt') => chatAs(stack, token, model);
const models = (token: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 }).models.list()
  .then((page) => page.data.map((m) => m.id), (err: { status?: number }) => err.status);

describe('a JWT\'s team deleted after its calls', () => {
  it('refuses the token at once, on model calls and /v1/models, and team_id_upsert does not bring the team back', async () => {
    await admin('/team/new', { team_id: 'team-gone', models: ['gpt-x'] });
    const token = jwt({ sub: 'gone-user', client_id: 'team-gone' });
    expect((await chat(token, 'gpt-x')).status).toBe(200);
    expect((await chat(token, 'mock-gpt')).status).toBe(401);
    expect(await models(token)).toEqual(['gpt-x']);
    await admin('/team/delete', { team_ids: ['team-gone'] });
    const refused = await chat(token, 'mock-gpt');
    expect(refused.status).toBe(404);
    expect(refused.error?.message).toContain('Team doesn\'t exist in db. Team=team-gone');
    expect(await models(token)).toBe(404);
    // Past the limiter's refresh of a refusal: the deleted team is not upserted again.
    await new Promise((r) => setTimeout(r, 5_500));
    expect((await chat(token, 'mock-gpt')).status).toBe(404);
    expect((await chat(token, 'gpt-x')).status).toBe(404);
  });
});

describe('a JWT\'s team created after a refusal', () => {
  it('is taken up within seconds, on /v1/models as on model calls', async () => {
    const token = jwt({ sub: 'early-user', groups: ['team-late'] });
    // team_id_upsert is on, so name a team through an organization that does not exist yet to be refused first.
    const early = jwt({ sub: 'early-user', client_id: 'team-late-org', org_id: 'org-late' });
    expect((await chat(early)).status).toBe(404);
    expect(await models(early)).toBe(404);
    await admin('/organization/new', { organization_id: 'org-late', organization_alias: 'late', models: [] });
    // Within seconds (the limiters read a missing entity again 5 s on), without any admin call naming the token.
    await new Promise((r) => setTimeout(r, 5_500));
    expect(await eventually(async () => {
      const listed = await models(early);
      return Array.isArray(listed) ? listed : undefined;
    }, 10_000)).toEqual(['mock-gpt', 'gpt-x']);
    expect((await chat(early)).status).toBe(200);
    // And a plain token for an upserted team works from its first call.
    expect((await chat(token)).status).toBe(200);
  });
});

describe('a JWT naming an organization', () => {
  it('cannot leave its team\'s organization: a different org claim is refused, the team\'s own (or none) is held to its models', async () => {
    await admin('/organization/new', { organization_id: 'org-strict', organization_alias: 'strict', models: ['gpt-x'] });
    await admin('/organization/new', { organization_id: 'org-loose', organization_alias: 'loose', models: [] });
    await admin('/team/new', { team_id: 'team-in-strict', organization_id: 'org-strict', models: [] });
    const honest = await chat(jwt({ sub: 'org-user', client_id: 'team-in-strict' }), 'mock-gpt');
    expect(honest.status).toBe(401);
    expect(honest.error?.type).toBe('org_model_access_denied');
    expect((await chat(jwt({ sub: 'org-user', client_id: 'team-in-strict', org_id: 'org-strict' }), 'gpt-x')).status).toBe(200);
    const escaping = await chat(jwt({ sub: 'org-user', client_id: 'team-in-strict', org_id: 'org-loose' }), 'mock-gpt');
    expect(escaping.status).toBe(403);
    expect(escaping.error?.message).toContain('belongs to organization org-strict');
  });
});

describe('a JWT user with a proxy_admin role stored', () => {
  it('is not a proxy admin on the admin API without the admin scope', async () => {
    await admin('/user/new', { user_id: 'stored-admin', user_role: 'proxy_admin', auto_create_key: false });
    const token = jwt({ sub: 'stored-admin' });
    const users = await call('/user/list', undefined, token);
    expect(users.status).toBe(403);
    const scoped = await call('/user/list', undefined, jwt({ sub: 'stored-admin', scope: 'litellm_proxy_admin' }));
    expect(scoped.status).toBe(200);
  });
});
