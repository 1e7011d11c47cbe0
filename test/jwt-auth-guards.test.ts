import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { adminClient } from './support/admin.ts';
import { chatAs, jwt, jwtConfigYaml, type Outcome, stack, useJwtStack } from './support/jwt-stack.ts';
import { eventually } from './support/keys.ts';
import { until } from './support/prometheus.ts';

/**
 * What guards the JWT claims beside team and user: an email never shows on the public /metrics,
 * `user_allowed_email_domain` refuses other domains before any user is looked up by email, a team list's
 * blocked team refuses rather than billing the next one, routes that call no model take the first listed team
 * that exists, and a refused call's spend-log row names the token's end user, not the request's `user`.
 */

const LAST_JWT_LINE = '    public_key_ttl: 600\n';
const configYaml = () => {
  const base = jwtConfigYaml(true);
  expect(base).toContain(LAST_JWT_LINE);
  expect(base).toContain('litellm_settings: {timezone: UTC}');
  return base
    .replace('litellm_settings: {timezone: UTC}', 'litellm_settings: {timezone: UTC, callbacks: ["prometheus"]}')
    .replace(LAST_JWT_LINE, `${LAST_JWT_LINE}    end_user_id_jwt_field: customer.id\n    user_email_jwt_field: email\n    user_allowed_email_domain: example.com\n`);
};

useJwtStack(configYaml);
const { ok: admin, rows } = adminClient(() => stack);

const chat = (token: string, model = 'mock-gpt'): Promise<Outcome> => chatAs(stack, token, model);

describe('a JWT caller on /metrics', () => {
  it('shows as hashed_api_key "other": neither its email nor its jwt: id reaches the public /metrics', async () => {
    await admin('/team/new', { team_id: 'm-team', models: ['mock-gpt'] });
    const out = await chat(jwt({ sub: 'metrics-user', client_id: 'm-team', email: 'private.person@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    const scraped = await until(stack.url, (m) => {
      expect(m.text).toMatch(/litellm_remaining_api_key_budget_metric\{[^}]*hashed_api_key="other"/);
      expect(m.text).toMatch(/team="m-team"/);
    });
    expect(scraped.text).not.toContain('private.person');
    expect(scraped.text).not.toContain('jwt:');
  });
});

describe('a JWT caller without the user claim on /metrics', () => {
  it('shows as user "other": the email that is its user id never reaches the public /metrics', async () => {
    await admin('/team/new', { team_id: 'm-team-nosub', models: ['mock-gpt'] });
    const out = await chat(jwt({ client_id: 'm-team-nosub', email: 'nosub.metrics@example.com' }));
    expect(out.status, JSON.stringify(out.error)).toBe(200);
    const scraped = await until(stack.url, (m) => {
      const series = m.text.split('\n').filter((line) => line.includes('team="m-team-nosub"') && /[{,]user="/.test(line));
      expect(series.length).toBeGreaterThan(0);
      for (const line of series) expect(line).toMatch(/[{,]user="other"/);
    });
    expect(scraped.text).not.toContain('nosub.metrics');
  });
});

describe('user_allowed_email_domain', () => {
  it('refuses a token whose email is of another domain with 403 before any lookup: the user with that email is not its caller', async () => {
    await admin('/user/new', { user_id: 'u-outside', user_email: 'someone@elsewhere.org', auto_create_key: false });
    const out = await chat(jwt({ sub: 'idp-unknown-1', email: 'Someone@elsewhere.org' }));
    expect(out.status).toBe(403);
    expect(out.error).toMatchObject({ type: 'auth_error' });
    expect(out.error?.message).toContain('email domain is not allowed');
    expect(await rows('SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', ['idp-unknown-1'])).toEqual([]);
    expect(await rows('SELECT 1 FROM "LiteLLM_SpendLogs" WHERE "user" = $1', ['u-outside'])).toEqual([]);
  });

  it('admits an email of the domain (any case) and creates no user for a token without an email', async () => {
    const ok = await chat(jwt({ sub: 'in-domain', email: 'in.domain@EXAMPLE.com' }));
    expect(ok.status, JSON.stringify(ok.error)).toBe(200);
    const noEmail = await chat(jwt({ sub: 'no-email-user' }));
    expect(noEmail.status).toBe(401);
    expect(noEmail.error?.message).toContain("User doesn't exist in db");
    expect(await rows('SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', ['no-email-user'])).toEqual([]);
  });
  it('takes a domain in config.yaml, and refuses an email or a list in its place, naming the setting', () => {
    const config = (domain: unknown) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: { user_allowed_email_domain: domain } } }, {});
    expect(config('my-co.com').ok).toBe(true);
    for (const bad of ['@my-co.com', 'a b.com', ['my-co.com']]) {
      const result = config(bad);
      expect(result.ok ? '' : result.errors.join('\n')).toMatch(/general_settings\.litellm_jwtauth\.user_allowed_email_domain/);
    }
  });
});

describe('team_ids_jwt_field guards', () => {
  it('refuses a blocked listed team that may call the model (403) instead of billing the next team', async () => {
    await admin('/team/new', { team_id: 'gb-blocked', models: ['mock-gpt'] });
    await admin('/team/block', { team_id: 'gb-blocked' });
    await admin('/team/new', { team_id: 'gb-next', models: ['mock-gpt'] });
    const token = jwt({ sub: 'gb-user', email: 'gb@example.com', groups: ['gb-blocked', 'gb-next'] });
    for (let i = 0; i < 2; i++) {
      const out = await chat(token);
      expect(out.status).toBe(403);
      expect(out.error?.message).toContain('Team=gb-blocked is blocked');
    }
    expect(await rows('SELECT 1 FROM "LiteLLM_SpendLogs" WHERE team_id = $1 AND status = $2', ['gb-next', 'success'])).toEqual([]);
  });

  it('lists /v1/models as the first listed team that exists, not a missing first team', async () => {
    await admin('/team/new', { team_id: 'gm-real', models: ['gpt-x'] });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: jwt({ sub: 'gm-user', email: 'gm@example.com', groups: ['gm-missing', 'gm-real'] }), maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-x']);
  });
});

describe('a refused call of a token naming an end user', () => {
  it('records the token\'s end user on the refused row, not the request\'s `user`', async () => {
    await admin('/team/new', { team_id: 'ru-team', models: ['mock-gpt'] });
    await admin('/customer/new', { user_id: 'ru-broke', max_budget: 0 });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: jwt({ sub: 'ru-user', email: 'ru@example.com', client_id: 'ru-team', customer: { id: 'ru-broke' } }), maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, user: 'ru-claimed' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'budget_exceeded' });
    const row = await eventually(async () => (await rows('SELECT end_user, status FROM "LiteLLM_SpendLogs" WHERE end_user = $1', ['ru-broke']))[0]);
    expect(row).toMatchObject({ status: 'failure' });
    expect(await rows('SELECT 1 FROM "LiteLLM_SpendLogs" WHERE end_user = $1', ['ru-claimed'])).toEqual([]);
  });
});
