import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient, seedKeyFixture } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Keys a team owns: service-account keys (no user), and the logging settings only a proxy admin may point at the environment.

let stack: TestStack;
const { call, generate, plainKeys, rows, chat, auditLogFreeOfPlainKeys } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await seedKeyFixture(rows);
});
afterAll(async () => stack?.stop());

describe('POST /key/service-account/generate', () => {
  it("mints a team's key that belongs to no user, held to the team, by proxy or team admins", async () => {
    const res = await call('/key/service-account/generate', { team_id: 'team-a', key_alias: 'ci-bot', user_id: 'ignored-user', max_budget: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    plainKeys.push(res.body.key);
    expect(res.body).toMatchObject({ team_id: 'team-a', user_id: null, key_alias: 'ci-bot', max_budget: 3 });
    expect((await rows('SELECT user_id, team_id FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(res.body.key)]))[0]).toEqual({ user_id: null, team_id: 'team-a' });
    expect((await chat(res.body.key)).choices[0]?.message.content).toBe('pong');

    const missing = await call('/key/service-account/generate', { key_alias: 'no-team' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ param: 'team_id', message: expect.stringMatching(/^team_id is required for service account keys/) });
    expect((await call('/key/service-account/generate', { team_id: 'no-such-team' })).status).toBe(400);
    // alice administers team-a (admins), and is only a member of team-b.
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const own = await call('/key/service-account/generate', { team_id: 'team-a' }, alice);
    expect(own.status).toBe(200);
    plainKeys.push(own.body.key);
    expect(own.body.user_id).toBeNull();
    expect((await call('/key/service-account/generate', { team_id: 'team-b' }, alice)).status).toBe(403);
  });

  it('lets only proxy admins name os.environ/ values in a key\'s logging settings', async () => {
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const exfiltrate = { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk', langfuse_secret_key: 'os.environ/LITELLM_MASTER_KEY', langfuse_host: 'https://elsewhere.example' } }] };
    const refused = await call('/key/generate', { team_id: 'team-a', metadata: exfiltrate }, alice);
    expect(refused.status).toBe(403);
    expect(refused.body.error.param).toBe('metadata');
    // Nor onto an existing key.
    const own = await call('/key/generate', { team_id: 'team-a' }, alice);
    plainKeys.push(own.body.key);
    expect((await call('/key/update', { key: own.body.key, metadata: exfiltrate }, alice)).status).toBe(403);
    expect((await rows('SELECT metadata FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(own.body.key)]))[0]?.metadata).toEqual({});
    // Literal credentials are a team admin's to set; a proxy admin may name the environment's.
    expect((await call('/key/update', { key: own.body.key, metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk', langfuse_secret_key: 'sk-lit' } }] } }, alice)).status).toBe(200);
    // ...but never the gateway's own secrets (the master key would go to a Langfuse host of the admin's choosing).
    const masterKeyOut = await call('/key/generate', { team_id: 'team-a', metadata: exfiltrate });
    expect(masterKeyOut.status).toBe(422);
    expect(masterKeyOut.body.error.message).toContain('os.environ/LITELLM_MASTER_KEY');
    const fromEnvironment = { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk', langfuse_secret_key: 'os.environ/TEAM_A_LANGFUSE_SECRET' } }] };
    const admin = await call('/key/generate', { team_id: 'team-a', metadata: fromEnvironment });
    expect(admin.status).toBe(200);
    plainKeys.push(admin.body.key);
  });
});


describe('the audit log of these keys', () => {
  it('never stores one of their plain keys', async () => {
    expect(plainKeys.length).toBeGreaterThan(2);
    await auditLogFreeOfPlainKeys();
  });
});
