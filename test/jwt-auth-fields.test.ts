import { describe, expect, it } from 'vitest';
import { admin, call, chat, endUserSpend, loggedRow, refusedEventually, rows, userRow, useJwtFieldsStack } from './support/jwt-fields-stack.ts';
import { jwt } from './support/jwt-stack.ts';
import { eventually } from './support/keys.ts';

/**
 * The claims litellm_jwtauth maps beside team and user, on a live stack: end_user_id_jwt_field (the customer of
 * the call, tracked and budgeted as a request's `user` is) and user_email_jwt_field (an upserted user's email, and
 * how an unknown user id finds the user an admin made). Their settings and the caller they make:
 * jwt-auth-fields-config; team lists: jwt-auth-team-list. Prices and budgets: support/jwt-fields-stack.ts.
 */

useJwtFieldsStack();

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
