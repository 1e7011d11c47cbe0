import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Virtual keys on the data path: model access and refusals, enforce_user_param.

let fake: FakeUpstream;
let stack: TestStack;

useDataPathStack((s) => ({ fake, stack } = s));

describe('virtual keys', () => {
  it('list only the models a key may use; access groups and team lists apply', async () => {
    const only = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    const beta = await seedKey(stack.db.url, { models: ['beta-models'] });
    await seedTeam(stack.db.url, { id: 'team-narrow', models: ['embedder', 'gpt-4o'] });
    const teamKey = await seedKey(stack.db.url, { teamId: 'team-narrow', models: [] });
    const ids = async (key: string) => (await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key }).models.list()).data.map((m) => m.id).sort();
    expect(await ids(only)).toEqual(['gpt-4o']);
    expect(await ids(beta)).toEqual(['llama']);
    expect(await ids(teamKey)).toEqual(['embedder', 'gpt-4o']);
    expect(await ids(TEST_MASTER_KEY)).toEqual(['azure-gpt', 'bare-name', 'embedder', 'gpt-4o', 'instruct', 'llama', 'unreachable']);
    const one = await fetch(`${stack.url}/v1/models/gpt-4o`, { headers: { authorization: `Bearer ${only}` } });
    expect(await one.json()).toMatchObject({ id: 'gpt-4o', object: 'model' });
    const hidden = await fetch(`${stack.url}/v1/models/llama`, { headers: { authorization: `Bearer ${only}` } });
    expect(hidden.status).toBe(404);
  });

  it('are refused with LiteLLM\'s error types, never echoing the key', async () => {
    const keyClient = (key: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const ask = (key: string, model = 'gpt-4o') => keyClient(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });

    const unknown = 'sk-this-key-does-not-exist-9999';
    const err401 = await ask(unknown).catch((e: unknown) => e);
    expect(err401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err401 as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ type: 'token_not_found_in_db', code: '401' });
    expect(JSON.stringify((err401 as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain(unknown);

    const blocked = await seedKey(stack.db.url, { blocked: true });
    await expect(ask(blocked)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);

    const expired = await seedKey(stack.db.url, { expires: new Date(Date.now() - 60_000) });
    const errExpired = await ask(expired).catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(errExpired).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(errExpired.error).toMatchObject({ type: 'expired_key' });

    const narrow = await seedKey(stack.db.url, { models: ['llama'] });
    const denied = await ask(narrow, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(denied.error).toMatchObject({ type: 'key_model_access_denied' });

    await seedTeam(stack.db.url, { id: 'team-llama', models: ['llama'] });
    const inTeam = await seedKey(stack.db.url, { teamId: 'team-llama', models: ['gpt-4o', 'llama'] });
    const teamDenied = await ask(inTeam, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(teamDenied.error).toMatchObject({ type: 'team_model_access_denied' });

    await seedTeam(stack.db.url, { id: 'team-blocked', blocked: true });
    const blockedTeam = await seedKey(stack.db.url, { teamId: 'team-blocked' });
    await expect(ask(blockedTeam)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(fake.requests).toHaveLength(0);
  });

  it('hold a personal key to its user\'s model list and any key to its organization\'s (LiteLLM\'s user_ and org_model_access_denied)', async () => {
    await query(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, models) VALUES ('user-llama-only', '{llama}')`);
    const personal = await seedKey(stack.db.url, { userId: 'user-llama-only', models: [] });
    const ask = (key: string, model: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });
    const byUser = await ask(personal, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(byUser).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(byUser.error).toMatchObject({ type: 'user_model_access_denied', message: 'user not allowed to access model. This user can only access models=["llama"]. Tried to access gpt-4o' });
    expect((await ask(personal, 'llama')).choices[0]?.message.content).toBeTruthy();
    // In a team, the team's list applies instead of the user's.
    await seedTeam(stack.db.url, { id: 'team-open', models: [] });
    const inTeam = await seedKey(stack.db.url, { userId: 'user-llama-only', teamId: 'team-open', models: [] });
    expect((await ask(inTeam, 'gpt-4o')).choices[0]?.message.content).toBeTruthy();

    await query(stack.db.url, `INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, models) VALUES ('org-gpt-only', 'GPT only', '{gpt-4o}')`);
    const orgKey = await seedKey(stack.db.url, { models: [] });
    await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET organization_id = 'org-gpt-only' WHERE token = $1`, [sha256(orgKey)]);
    const byOrg = await ask(orgKey, 'llama').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(byOrg.error).toMatchObject({ type: 'org_model_access_denied' });
    expect((await ask(orgKey, 'gpt-4o')).choices[0]?.message.content).toBeTruthy();
  });
});

describe('general_settings.enforce_user_param', () => {
  let strict: TestStack;
  beforeAll(async () => {
    strict = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: upstream-key}
general_settings:
  enforce_user_param: true
`,
    });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses a virtual key\'s call that names no end user (401, nothing sent upstream), and lets one that does through', async () => {
    const key = await seedKey(strict.db.url, { models: [] });
    const client = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: key, maxRetries: 0 });
    const refused = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: expect.stringContaining("'user' param not passed in"), type: 'auth_error' });
    expect(fake.requests).toHaveLength(0);
    const served = await client.chat.completions.create({ model: 'gpt-4o', user: 'customer-7', messages: [{ role: 'user', content: 'hi' }] });
    expect(served.choices[0]?.message.content).toBeTruthy();
    // The master key is not held to it, as in LiteLLM.
    const admin = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    expect((await admin.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).choices).toHaveLength(1);
  });
});
