import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerOf, jwtSubject } from '../worker/auth/jwt-identity.ts';
import { validateConfig } from '../worker/config/validate.ts';
import { type Claims, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { adminClient } from './support/admin.ts';
import { jwtConfigYaml, type Outcome, type ErrorBody } from './support/jwt-stack.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The claims litellm_jwtauth maps beside team and user: end_user_id_jwt_field (the customer of the call,
 * tracked and budgeted as a request's `user` is) and user_email_jwt_field (an upserted user's email, and how
 * an unknown user id finds the user an admin made). Teams, users and customers are made through the admin
 * API with the master key, as an operator would.
 *
 * Every call sends "hi" (1 token) with max_tokens 1 and gets "ok" (1 token): 2 x 0.25 = 0.5 a call, so a
 * max_budget of 1 admits exactly two calls.
 */

const LAST_JWT_LINE = '    public_key_ttl: 600\n';
const configYaml = () => {
  const base = jwtConfigYaml(true);
  expect(base).toContain(LAST_JWT_LINE);
  return base.replace(LAST_JWT_LINE, `${LAST_JWT_LINE}    end_user_id_jwt_field: customer.id\n    user_email_jwt_field: email\n`);
};

let idp: FakeIdp;
let stack: TestStack;
const { ok: admin, call, rows } = adminClient(() => stack);

beforeAll(async () => {
  idp = await startFakeIdp();
  stack = await startTestStack({ configYaml: configYaml(), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
});
afterAll(async () => {
  await stack?.stop();
  await idp?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const jwt = (claims: Claims) => idp.sign({ iat: now(), exp: now() + 300, ...claims });

/** One chat call with the official client, naming `user` when given; a refusal comes back as its status and error body. */
async function chat(token: string, user?: string, model = 'mock-gpt'): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, ...(user ? { user } : {}) }).withResponse();
    return { status: response.status, callId: response.headers.get('x-litellm-call-id') };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return { status: err.status, error: err.error as ErrorBody };
    throw err;
  }
}

const loggedRow = (callId: string | null | undefined) => eventually(() => spendLogRow(stack.db.url, callId ?? ''));
const endUserSpend = async (id: string) => Number((await rows('SELECT spend FROM "LiteLLM_EndUserTable" WHERE user_id = $1', [id]))[0]?.spend ?? 0);
const userRow = async (id: string) => (await rows('SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1', [id]))[0];
const refusedEventually = (send: () => Promise<Outcome>) => eventually(async () => {
  const out = await send();
  return out.status === 200 ? undefined : out;
});

describe('end_user_id_jwt_field', () => {
  it('makes the claim the call\'s end user, over the request\'s `user`: its spend-log row and its spend', async () => {
    await admin('/team/new', { team_id: 'team-eu', models: ['mock-gpt'] });
    const out = await chat(jwt({ sub: 'eu-alice', client_id: 'team-eu', customer: { id: 'cust-signed' } }), 'cust-claimed-by-client');
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await loggedRow(out.callId)).toMatchObject({ end_user: 'cust-signed', team_id: 'team-eu', user: 'eu-alice' });
    await eventually(async () => ((await endUserSpend('cust-signed')) > 0 ? true : undefined));
    expect(await endUserSpend('cust-claimed-by-client')).toBe(0);
  });

  it('holds the calls to the end user\'s budget, whatever `user` the request names; the team\'s other tokens go on', async () => {
    await admin('/team/new', { team_id: 'team-eu-budget', models: ['mock-gpt'] });
    await admin('/customer/new', { user_id: 'cust-frugal', max_budget: 1 });
    const token = jwt({ sub: 'eu-bob', client_id: 'team-eu-budget', customer: { id: 'cust-frugal' } });
    expect((await chat(token)).status).toBe(200);
    expect((await chat(token)).status).toBe(200);
    const refused = await refusedEventually(() => chat(token, 'someone-else'));
    expect(refused.error).toMatchObject({ type: 'budget_exceeded' });
    expect(refused.error?.message).toContain('End User=cust-frugal');
    expect((await chat(jwt({ sub: 'eu-bob', client_id: 'team-eu-budget', customer: { id: 'cust-other' } }))).status).toBe(200);
  });

  it('refuses the calls of a blocked end user the token names with a 403, whatever `user` the request names', async () => {
    await admin('/team/new', { team_id: 'team-eu-blocked', models: ['mock-gpt'] });
    await admin('/customer/block', { user_ids: ['cust-blocked'] });
    const out = await chat(jwt({ sub: 'eu-dan', client_id: 'team-eu-blocked', customer: { id: 'cust-blocked' } }), 'cust-fine');
    expect(out.status).toBe(403);
    expect(out.error?.message).toContain('cust-blocked is blocked');
    expect((await chat(jwt({ sub: 'eu-dan', client_id: 'team-eu-blocked' }), 'cust-fine')).status).toBe(200);
  });

  it('leaves a token without the claim to the request\'s `user`, as for a virtual key', async () => {
    await admin('/team/new', { team_id: 'team-eu-plain', models: ['mock-gpt'] });
    const out = await chat(jwt({ sub: 'eu-carol', client_id: 'team-eu-plain' }), 'cust-from-body');
    expect(out.status).toBe(200);
    expect((await loggedRow(out.callId)).end_user).toBe('cust-from-body');
  });

  it('does not make a token that names only an end user a caller: 401, nothing spent', async () => {
    const out = await chat(jwt({ customer: { id: 'cust-alone' } }));
    expect(out.status).toBe(401);
    expect(out.error?.message).toContain('JWT names no team, user or admin scope');
    expect(await endUserSpend('cust-alone')).toBe(0);
  });
});

describe('user_email_jwt_field', () => {
  it('gives an upserted user the token\'s email', async () => {
    const out = await chat(jwt({ sub: 'mail-new', email: 'Mail.New@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect(await userRow('mail-new')).toMatchObject({ user_email: 'Mail.New@example.com', user_role: 'internal_user' });
  });

  it('finds the user an admin made by its email (any case) when the id is unknown: billed to it, no new user', async () => {
    await admin('/user/new', { user_id: 'u-by-mail', user_email: 'known.person@example.com', max_budget: 1, auto_create_key: false });
    const token = jwt({ sub: 'idp-opaque-4711', email: 'KNOWN.Person@example.com' });
    const out = await chat(token);
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect((await loggedRow(out.callId)).user).toBe('u-by-mail');
    expect(await userRow('idp-opaque-4711')).toBeUndefined();
    // The found user's own budget holds the token's calls.
    expect((await chat(token)).status).toBe(200);
    expect((await refusedEventually(() => chat(token))).error).toMatchObject({ type: 'budget_exceeded' });
  });

  it('binds the token\'s user id to the user its email found (sso_user_id), so its email no longer matters', async () => {
    await admin('/user/new', { user_id: 'u-bind', user_email: 'bind.me@example.com', auto_create_key: false });
    const first = await chat(jwt({ sub: 'idp-bind-1', email: 'bind.me@example.com' }));
    expect(first.status, JSON.stringify(first.error)).toBe(200);
    expect(await userRow('u-bind')).toMatchObject({ sso_user_id: 'idp-bind-1' });
    // The IdP's email changed: the same subject is still that user, by its bound id.
    const later = await chat(jwt({ sub: 'idp-bind-1', email: 'renamed@example.com' }));
    expect(later.status, JSON.stringify(later.error)).toBe(200);
    expect((await loggedRow(later.callId)).user).toBe('u-bind');
    expect(await userRow('idp-bind-1')).toBeUndefined();
  });

  it('refuses an email two users share with a 401 naming neither, and binds or creates no user', async () => {
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, user_email) VALUES ('u-twin-1', 'internal_user', 'twin@example.com'), ('u-twin-2', 'internal_user', 'TWIN@example.com')`);
    const out = await chat(jwt({ sub: 'idp-twin', email: 'twin@example.com' }));
    expect(out.status).toBe(401);
    expect(out.error).toMatchObject({ type: 'auth_error', param: 'user_email' });
    expect(out.error?.message).toContain('more than one user has the JWT\'s email');
    expect(out.error?.message).not.toMatch(/u-twin/);
    expect(await userRow('idp-twin')).toBeUndefined();
    expect(await rows('SELECT 1 FROM "LiteLLM_UserTable" WHERE sso_user_id = $1', ['idp-twin'])).toEqual([]);
  });

  it('does not let a user take a colleague\'s tokens by setting its own email to theirs (403); the colleague\'s token stays theirs', async () => {
    await admin('/user/new', { user_id: 'u-victim', user_email: 'victim@example.com', auto_create_key: false });
    const thief = await admin('/user/new', { user_id: 'u-thief', user_email: 'thief@example.com' });
    const edit = await call('/user/update', { user_id: 'u-thief', user_email: 'Victim@example.com' }, thief.key);
    expect(edit.status).toBe(403);
    expect(edit.body.error.message).toContain('Only proxy admins can change user_email');
    expect(await userRow('u-thief')).toMatchObject({ user_email: 'thief@example.com' });
    // Sending its own email back unchanged is no change, and allowed.
    expect((await call('/user/update', { user_id: 'u-thief', user_email: 'thief@example.com', user_alias: 'T' }, thief.key)).status).toBe(200);
    const out = await chat(jwt({ sub: 'idp-victim', email: 'victim@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect((await loggedRow(out.callId)).user).toBe('u-victim');
  });

  it('takes the email as the user of a token without the user claim, as LiteLLM does', async () => {
    const out = await chat(jwt({ email: 'no-sub@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    expect((await loggedRow(out.callId)).user).toBe('no-sub@example.com');
    expect(await userRow('no-sub@example.com')).toMatchObject({ user_email: 'no-sub@example.com' });
  });
});

describe('the new settings in config.yaml', () => {
  const config = (jwtauth: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: jwtauth } }, {});
  const errors = (result: ReturnType<typeof config>) => (result.ok ? '' : result.errors.join('\n'));

  it('takes claim names and dot paths, without warning of them', () => {
    const result = config({ end_user_id_jwt_field: 'customer.id', user_email_jwt_field: 'email' });
    expect(result.ok).toBe(true);
    expect(result.ok ? result.warnings.join('\n') : '').not.toMatch(/end_user_id_jwt_field|user_email_jwt_field/);
  });

  it('refuses a claim that is not a string, empty, or a broken dot path, naming the setting', () => {
    expect(errors(config({ end_user_id_jwt_field: 42 }))).toMatch(/general_settings\.litellm_jwtauth\.end_user_id_jwt_field: expected a string/);
    expect(errors(config({ user_email_jwt_field: '' }))).toMatch(/general_settings\.litellm_jwtauth\.user_email_jwt_field: expected a claim name or dot path/);
    expect(errors(config({ end_user_id_jwt_field: 'customer..id' }))).toMatch(/end_user_id_jwt_field: expected a claim name or dot path/);
  });
});

describe('the caller a token with these claims is', () => {
  const settings = { team_id_jwt_field: 'client_id', user_id_jwt_field: 'sub', user_email_jwt_field: 'email', end_user_id_jwt_field: 'customer.id' };

  it('keeps the end user out of its made-up key, and the key of a token without an email as it was', () => {
    const a = callerOf({ sub: 'u', client_id: 't', customer: { id: 'c-1' } }, settings);
    const b = callerOf({ sub: 'u', client_id: 't', customer: { id: 'c-2' } }, settings);
    expect(a.endUser).toBe('c-1');
    expect(b.token).toBe(a.token);
    // Without an email the key is the three ids it always was: callers, their spend and their objects stay theirs.
    expect(a.token).toBe(`jwt:${Buffer.from(JSON.stringify(['t', 'u', null])).toString('base64url')}`);
    expect(jwtSubject(a.token)).toEqual({ teamId: 't', userId: 'u', orgId: null });
  });

  it('carries the email in its key, for the user lookup and upsert', () => {
    expect(jwtSubject(callerOf({ sub: 'u', email: 'U@example.com' }, settings).token)).toEqual({ teamId: null, userId: 'u', orgId: null, email: 'U@example.com' });
    expect(jwtSubject(callerOf({ email: 'only@example.com' }, settings).token)).toMatchObject({ userId: 'only@example.com', email: 'only@example.com' });
  });

  it('has no end user when the claim is absent or not a string or number', () => {
    expect(callerOf({ sub: 'u', customer: { id: { nested: true } } }, settings).endUser).toBeUndefined();
    expect(callerOf({ sub: 'u' }, settings).endUser).toBeUndefined();
    expect(callerOf({ sub: 'u', customer: { id: 7 } }, settings).endUser).toBe('7');
  });
});

describe('team_id_default beside team_ids_jwt_field', () => {
  it('comes before the list claim, as in LiteLLM; the list\'s first entry only without a default', () => {
    const settings = { team_id_jwt_field: 'client_id', team_ids_jwt_field: 'groups', user_id_jwt_field: 'sub' };
    const team = (claims: Claims, more = {}) => jwtSubject(callerOf(claims, { ...settings, ...more }).token)?.teamId;
    expect(team({ sub: 'u', groups: ['g-1', 'g-2'] }, { team_id_default: 'everyone' })).toBe('everyone');
    expect(team({ sub: 'u', client_id: 'c', groups: ['g-1'] }, { team_id_default: 'everyone' })).toBe('c');
    expect(team({ sub: 'u', groups: ['g-1', 'g-2'] })).toBe('g-1');
  });
});

describe('team_ids_jwt_field listing several teams', () => {
  it('bills each model call to the first listed team that exists and may call the model (a blocked one refuses: jwt-auth-guards)', async () => {
    await admin('/team/new', { team_id: 'g-narrow', models: ['gpt-x'] });
    await admin('/team/new', { team_id: 'g-wide', models: ['mock-gpt'] });
    const token = jwt({ sub: 'grp-user', groups: ['g-missing', 'g-narrow', 'g-wide'] });
    const toMock = await chat(token);
    expect(toMock.status, JSON.stringify(toMock.error)).toBe(200);
    expect((await loggedRow(toMock.callId)).team_id).toBe('g-wide');
    const toX = await chat(token, undefined, 'gpt-x');
    expect(toX.status, JSON.stringify(toX.error)).toBe(200);
    expect((await loggedRow(toX.callId)).team_id).toBe('g-narrow');
  });

  it('chooses among the teams this token lists, not those another token of the same user listed', async () => {
    await admin('/team/new', { team_id: 'g-twin-x', models: ['gpt-x'] });
    await admin('/team/new', { team_id: 'g-second-a', models: ['mock-gpt'] });
    await admin('/team/new', { team_id: 'g-second-b', models: ['mock-gpt'] });
    const first = await chat(jwt({ sub: 'grp-twin', groups: ['g-twin-x', 'g-second-a'] }));
    expect((await loggedRow(first.callId)).team_id).toBe('g-second-a');
    const second = await chat(jwt({ sub: 'grp-twin', groups: ['g-twin-x', 'g-second-b'] }));
    expect((await loggedRow(second.callId)).team_id).toBe('g-second-b');
  });

  it('refuses a model no listed team may call with LiteLLM\'s 403 naming the teams, and creates no team', async () => {
    await admin('/team/new', { team_id: 'g-only-x', models: ['gpt-x'] });
    const out = await chat(jwt({ sub: 'grp-user', groups: ['g-ghost', 'g-only-x'] }));
    expect(out.status).toBe(403);
    expect(out.error?.message).toContain('No team has access to the requested model: mock-gpt');
    expect(out.error?.message).toContain('g-only-x');
    expect(await rows('SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['g-ghost'])).toEqual([]);
  });
});
