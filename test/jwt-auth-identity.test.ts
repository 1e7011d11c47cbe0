import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claims, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { adminClient } from './support/admin.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { chatAs, jwtConfigYaml, type Outcome } from './support/jwt-stack.ts';

/**
 * Who a verified JWT makes the caller (litellm_jwtauth): a proxy admin by its
 * scope, a team by client_id or groups, a user by sub; and what each may do.
 * Teams and users are made through the admin API with the master key, as an
 * operator would. Token verification is test/jwt-auth-verify.test.ts's.
 *
 * Every call sends "hi" (1 token) with max_tokens 1 and gets "ok" (1 token):
 * 2 x 0.25 = 0.5 a call, so a max_budget of 1 admits exactly two calls.
 */

let idp: FakeIdp;
let stack: TestStack;
const { call, ok: admin, rows, count } = adminClient(() => stack);

beforeAll(async () => {
  idp = await startFakeIdp();
  stack = await startTestStack({ configYaml: jwtConfigYaml(true), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
});
afterAll(async () => {
  await stack?.stop();
  await idp?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const jwt = (claims: Claims) => idp.sign({ iat: now(), exp: now() + 300, ...claims });

const chat = (token: string, model = 'mock-gpt', on: TestStack = stack) => chatAs(on, token, model);

/** Calls until one is refused (a settlement may reach the limiter after the next call is admitted); that refusal. */
const refusedEventually = (send: () => Promise<Outcome>) => eventually(async () => {
  const out = await send();
  return out.status === 200 ? undefined : out;
});

const loggedRow = (callId: string | null | undefined) => eventually(() => spendLogRow(stack.db.url, callId ?? ''));
const teamSpend = async (teamId: string) => Number((await rows('SELECT team_spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', [teamId]))[0]?.team_spend);
const userRow = async (userId: string) => (await rows('SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId]))[0];

describe('admin_jwt_scope', () => {
  it('makes a token whose scope holds litellm_proxy_admin a proxy admin: admin routes and model calls', async () => {
    const token = jwt({ sub: 'ops-admin', scope: 'openid email litellm_proxy_admin' });
    const generated = await admin('/key/generate', { key_alias: 'made-by-jwt-admin' }, token);
    expect((await chat(generated.key as string)).status).toBe(200);
    expect((await call('/team/list', undefined, token)).status).toBe(200);
    expect((await chat(token)).status).toBe(200);
  });
});

describe('the team from client_id or groups', () => {
  it('serves a team token\'s call with the openai client, logs it to the team and to sub, and adds to the team\'s spend', async () => {
    await admin('/team/new', { team_id: 'team-jwt', models: ['mock-gpt'] });
    const token = jwt({ sub: 'alice', client_id: 'team-jwt' });
    const reply = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 }).chat.completions
      .create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }).withResponse();
    expect(reply.data.choices[0]?.message.content).toBe('ok');
    const row = await loggedRow(reply.response.headers.get('x-litellm-call-id'));
    expect(row).toMatchObject({ team_id: 'team-jwt', user: 'alice' });
    await eventually(async () => ((await teamSpend('team-jwt')) > 0 ? true : undefined));
  });

  it('takes client_id over groups, and the first of groups without it', async () => {
    await admin('/team/new', { team_id: 'team-group', models: ['mock-gpt'] });
    await admin('/team/new', { team_id: 'team-client', models: ['mock-gpt'] });
    const byClient = await chat(jwt({ sub: 'bob', client_id: 'team-client', groups: ['team-group'] }));
    expect((await loggedRow(byClient.callId)).team_id).toBe('team-client');
    const byGroup = await chat(jwt({ sub: 'bob', groups: ['team-group', 'team-client'] }));
    expect((await loggedRow(byGroup.callId)).team_id).toBe('team-group');
  });

  it('refuses a team the database does not have with a 404 naming it', async () => {
    const out = await chat(jwt({ sub: 'carol', client_id: 'team-ghost' }));
    expect(out.status).toBe(404);
    expect(out.error?.message).toContain('Team doesn\'t exist in db. Team=team-ghost');
  });

  it('refuses a model outside the team\'s models with LiteLLM\'s 401, as for a team\'s key', async () => {
    await admin('/team/new', { team_id: 'team-narrow', models: ['mock-gpt'] });
    const out = await chat(jwt({ sub: 'dave', client_id: 'team-narrow' }), 'gpt-x');
    expect(out.status).toBe(401);
    expect(out.error).toMatchObject({ type: 'team_model_access_denied', message: expect.stringContaining('team not allowed to access model') });
    expect(out.error?.message).toContain('Tried to access gpt-x');
  });

  it('holds the team to its rpm_limit: the third call in the minute gets a 429', async () => {
    await admin('/team/new', { team_id: 'team-rpm', models: ['mock-gpt'], rpm_limit: 2 });
    const token = jwt({ sub: 'erin', client_id: 'team-rpm' });
    expect((await chat(token)).status).toBe(200);
    expect((await chat(token)).status).toBe(200);
    expect((await chat(token)).status).toBe(429);
  });

  it('refuses calls once the team has spent its max_budget', async () => {
    await admin('/team/new', { team_id: 'team-budget', models: ['mock-gpt'], max_budget: 1 });
    const token = jwt({ sub: 'frank', client_id: 'team-budget' });
    expect((await chat(token)).status).toBe(200);
    expect((await chat(token)).status).toBe(200);
    expect((await refusedEventually(() => chat(token))).error).toMatchObject({ type: 'budget_exceeded' });
  });

  it('refuses a blocked team\'s token with a 403', async () => {
    await admin('/team/new', { team_id: 'team-blocked', models: ['mock-gpt'] });
    const token = jwt({ sub: 'grace', client_id: 'team-blocked' });
    expect((await chat(token)).status).toBe(200);
    await admin('/team/block', { team_id: 'team-blocked' });
    expect((await chat(token)).status).toBe(403);
  });
});

describe('the user from sub', () => {
  it('creates an unknown user on first call (user_id_upsert), an internal user, and bills a user-only token to them', async () => {
    expect(await userRow('new-hire')).toBeUndefined();
    const out = await chat(jwt({ sub: 'new-hire', email: 'new-hire@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await eventually(() => userRow('new-hire'))).toMatchObject({ user_role: 'internal_user', spend: expect.anything() });
    expect(await loggedRow(out.callId)).toMatchObject({ user: 'new-hire', team_id: null });
    await eventually(async () => (Number((await userRow('new-hire'))?.spend) > 0 ? true : undefined));
  });

  it('holds a user-only token to the user\'s own max_budget', async () => {
    await admin('/user/new', { user_id: 'frugal', max_budget: 1, auto_create_key: false });
    const token = jwt({ sub: 'frugal' });
    expect((await chat(token)).status).toBe(200);
    expect((await chat(token)).status).toBe(200);
    expect((await refusedEventually(() => chat(token))).error).toMatchObject({ type: 'budget_exceeded' });
  });

  describe('with user_id_upsert: false', () => {
    let strict: TestStack;
    beforeAll(async () => {
      strict = await startTestStack({ configYaml: jwtConfigYaml(false), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
    });
    afterAll(async () => strict?.stop());

    it('refuses a user the database does not have with a 401, and creates no row', async () => {
      const out = await chat(jwt({ sub: 'stranger', email: 'stranger@example.com' }), 'mock-gpt', strict);
      expect(out.status).toBe(401);
      expect(out.error?.message).toContain('User doesn\'t exist in db');
      expect(await query(strict.db.url, 'SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', ['stranger'])).toEqual([]);
    });
  });
});

describe('team_allowed_routes', () => {
  it('keeps a team token off the admin routes: /key/generate is refused and makes no key', async () => {
    await admin('/team/new', { team_id: 'team-routes', models: ['mock-gpt'] });
    const keysBefore = await count('LiteLLM_VerificationToken');
    const refused = await call('/key/generate', { team_id: 'team-routes' }, jwt({ sub: 'heidi', client_id: 'team-routes' }));
    expect(refused.status).toBeGreaterThanOrEqual(401);
    expect(refused.status).toBeLessThanOrEqual(403);
    expect(await count('LiteLLM_VerificationToken')).toBe(keysBefore);
  });

  it('lists exactly the team\'s models on /v1/models', async () => {
    await admin('/team/new', { team_id: 'team-models', models: ['gpt-x'] });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: jwt({ sub: 'ivan', client_id: 'team-models' }), maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['gpt-x']);
  });
});

describe('the token stays secret', () => {
  it('appears in no spend-log row (api_key included) and in no refusal', async () => {
    await admin('/team/new', { team_id: 'team-secret', models: ['mock-gpt'] });
    const token = jwt({ sub: 'judy', client_id: 'team-secret' });
    const signature = token.split('.')[2] as string;
    const served = await chat(token);
    const refused = await chat(token, 'gpt-x');
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.error)).not.toContain(signature);
    const row = await loggedRow(served.callId);
    expect(row.api_key).not.toBe(token);
    const logged = (await rows('SELECT row_to_json(s)::text AS j FROM "LiteLLM_SpendLogs" s')).map((r) => r.j as string).join('\n');
    expect(logged).toContain('judy');
    expect(logged).not.toContain(signature);
  });
});
