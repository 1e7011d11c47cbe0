import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient, seedKeyFixture, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Minting keys (/key/generate) and reading them (/key/info, /v2/key/info); never a plain key in the audit log.

let stack: TestStack;
const { call, generate, plainKeys, rows, audits, count, chat, auditLogFreeOfPlainKeys } = adminClient(() => stack);
const countKeys = () => count('LiteLLM_VerificationToken');

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await seedKeyFixture(rows);
});
afterAll(async () => stack?.stop());

describe('POST /key/generate', () => {
  it('mints a key shown once, stores only its hash, and echoes the request', async () => {
    const before = Date.now();
    const body = await generate({
      key_alias: 'alpha', duration: '30d', models: ['mock-gpt'], max_budget: 10, budget_duration: '1mo', soft_budget: 5,
      metadata: { env: 'test' }, tags: ['t1'], tpm_limit: 1000, rpm_limit: 10, max_parallel_requests: 2,
      model_rpm_limit: { 'mock-gpt': 5 }, aliases: { small: 'mock-gpt' }, permissions: { pii_masking: true },
      allowed_cache_controls: ['no-cache'], guardrails: ['g1'], key_type: 'llm_api', not_a_litellm_field: 1,
    });
    expect(Object.keys(body).sort()).toEqual([
      'aliases', 'allowed_cache_controls', 'allowed_routes', 'blocked', 'budget_duration', 'budget_id', 'budget_limits', 'budget_reset_at', 'config',
      'created_at', 'created_by', 'duration', 'expires', 'guardrails', 'key', 'key_alias', 'key_name', 'key_type', 'last_active',
      'last_rotation_at', 'litellm_budget_table', 'max_budget', 'max_parallel_requests', 'metadata', 'model_max_budget',
      'model_rpm_limit', 'model_spend', 'model_tpm_limit', 'models', 'organization_id', 'permissions', 'rotation_count',
      'rpm_limit', 'soft_budget', 'soft_budget_cooldown', 'spend', 'tags', 'team_id', 'token', 'token_id', 'tpm_limit',
      'updated_at', 'updated_by', 'user_id',
    ]);
    expect(body.key).toMatch(/^sk-[A-Za-z0-9_-]+$/);
    expect(Buffer.from(body.key.slice(3), 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(body).toMatchObject({
      token: sha256(body.key), token_id: sha256(body.key), key_name: `sk-...${body.key.slice(-4)}`, key_alias: 'alpha',
      team_id: null, models: ['mock-gpt'], max_budget: 10, soft_budget: 5, budget_duration: '1mo', spend: 0, tpm_limit: 1000,
      rpm_limit: 10, max_parallel_requests: 2, model_rpm_limit: { 'mock-gpt': 5 }, aliases: { small: 'mock-gpt' },
      metadata: { env: 'test', guardrails: ['g1'] }, tags: ['t1'], allowed_routes: ['llm_api_routes'], duration: '30d',
      key_type: 'llm_api', guardrails: ['g1'], blocked: false, litellm_budget_table: null, created_by: 'default_user_id',
    });
    expect(body.user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(body.expires) - before).toBeGreaterThanOrEqual(30 * 86_400_000 - 1000);
    const now = new Date();
    expect(body.budget_reset_at).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    expect(Date.parse(body.created_at)).toBeGreaterThan(before - 5000);
    expect(Date.parse(body.updated_at)).toBeGreaterThan(before - 5000);
    const stored = await rows('SELECT row_to_json(t)::text AS j FROM "LiteLLM_VerificationToken" t WHERE token = $1', [body.token]);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.j).not.toContain(body.key);
    expect(stored[0]?.j).not.toContain(body.key.slice(3));
    const [audit] = await audits(body.token);
    expect(audit).toMatchObject({ action: 'created', table_name: 'LiteLLM_VerificationToken', changed_by: 'master_key', changed_by_api_key: sha256(TEST_MASTER_KEY) });
  });

  it('refuses bad input with 422 per field or LiteLLM 400s, writing nothing', async () => {
    const before = await countKeys();
    for (const [field, value] of [['max_budget', 'lots'], ['models', 'mock-gpt'], ['tpm_limit', 1.5], ['duration', 'forever'], ['metadata', [1]], ['blocked', 'yes']] as const) {
      const res = await call('/key/generate', { [field]: value });
      expect(res.status, field).toBe(422);
      expect(res.body.error).toMatchObject({ type: 'validation_error', param: field, code: '422' });
      expect(res.body.error.message).toContain(field);
    }
    for (const [body, param] of [[{ max_budget: -1 }, 'max_budget'], [{ soft_budget: -0.5 }, 'soft_budget'], [{ team_id: 'no-such-team' }, 'team_id'],
      [{ key: 'not-sk-custom-123' }, 'key'], [{ budget_id: 'no-such-budget' }, 'budget_id']] as const) {
      const res = await call('/key/generate', body);
      expect(res.status, param).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param, code: '400' });
    }
    expect((await call('/key/generate', '{"models": ')).status).toBe(400);
    await generate({ key_alias: 'dup' });
    expect((await call('/key/generate', { key_alias: 'dup' })).body.error.param).toBe('key_alias');
    expect(await countKeys()).toBe(before + 1);
  });

  it('accepts a custom sk- key and a budget_id, returning the budget row', async () => {
    const body = await generate({ key: 'sk-custom-abcdef-0001', budget_id: 'budget-1' });
    expect(body).toMatchObject({ key: 'sk-custom-abcdef-0001', token: sha256('sk-custom-abcdef-0001'), key_name: 'sk-...0001', budget_id: 'budget-1' });
    expect(body.litellm_budget_table).toMatchObject({ budget_id: 'budget-1', max_budget: 42 });
    expect((await call('/key/generate', { key: 'sk-custom-abcdef-0001' })).status).toBe(400);
  });

  it('lets only proxy admins and team admins mint keys', async () => {
    expect((await call('/key/generate', {}, null)).status).toBe(401);
    expect((await call('/key/generate', {}, 'sk-wrong-key-00000000')).body.error).toMatchObject({ type: 'token_not_found_in_db', code: '401' });
    const plain = await seedKey(stack.databaseUrl, { userId: 'carol' });
    const refused = await call('/key/generate', {}, plain);
    expect(refused.status).toBe(403);
    expect(refused.body.error.type).toBe('auth_error');
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    expect((await call('/key/generate', {}, alice)).status).toBe(403);
    expect((await call('/key/generate', { team_id: 'team-b' }, alice)).status).toBe(403);
    expect((await call('/key/generate', { team_id: 'no-such-team' }, alice)).status).toBe(403);
    const teamKey = await generate({ team_id: 'team-a' }, alice);
    expect(teamKey).toMatchObject({ team_id: 'team-a', user_id: 'alice', created_by: 'alice' });
    const bob = await seedKey(stack.databaseUrl, { userId: 'bob' });
    // A team admin gives keys to its team's members (that have a user row) only: never to an id that is no
    // member's, another existing user, or a proxy admin (the key would carry that role).
    const unknown = await call('/key/generate', { team_id: 'team-b', user_id: 'dave' }, bob);
    expect(unknown.status).toBe(403);
    expect(unknown.body.error.message).toContain('only proxy admins can give a key a user id nobody has yet');
    expect((await generate({ team_id: 'team-b', user_id: 'alice' }, bob)).user_id).toBe('alice');
    const other = await call('/key/generate', { team_id: 'team-b', user_id: 'carol' }, bob);
    expect(other.status).toBe(403);
    expect(other.body.error.message).toContain("user_id must be your own (bob) or a member's of the key's team (team_id=team-b)");
    expect((await call('/key/generate', { team_id: 'team-b', user_id: 'root' }, bob)).status).toBe(403);
    const bobsKey = await generate({ team_id: 'team-b' }, bob);
    expect((await call('/key/update', { key: bobsKey.key, user_id: 'root' }, bob)).status).toBe(403);
    expect((await call('/key/update', { key: bobsKey.key, user_id: 'carol' }, bob)).status).toBe(403);
    expect((await rows('SELECT user_id FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(bobsKey.key)]))[0]?.user_id).toBe('bob');
    const root = await seedKey(stack.databaseUrl, { userId: 'root' });
    expect((await generate({}, root)).created_by).toBe('root');
  });

  it('mints 10 distinct keys in parallel', async () => {
    const bodies = await Promise.all(Array.from({ length: 10 }, () => generate({ metadata: { batch: 'parallel' } })));
    expect(new Set(bodies.map((b) => b.key)).size).toBe(10);
    expect(new Set(bodies.map((b) => b.token)).size).toBe(10);
    expect((await rows(`SELECT token FROM "LiteLLM_VerificationToken" WHERE metadata->>'batch' = 'parallel'`)).length).toBe(10);
  });

  it('gives a key that works through the gateway for its models only', async () => {
    const { key } = await generate({ models: ['mock-gpt'] });
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
    const err = await chat(key, 'other-model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).type).toBe('key_model_access_denied');
  });
});

describe('GET /key/info and POST /v2/key/info', () => {
  it('reads any key as master, itself as a virtual key, and refuses others', async () => {
    const a = await generate({ key_alias: 'info-a', user_id: 'info-user-a' });
    const b = await generate({ user_id: 'info-user-b' });
    const byMaster = await call(`/key/info?key=${a.key}`);
    expect(byMaster.status).toBe(200);
    expect(byMaster.body.key).toBe(a.key);
    expect(byMaster.body.info).not.toHaveProperty('token');
    expect(byMaster.body.info).toMatchObject({ key_alias: 'info-a', key_name: a.key_name, user_id: 'info-user-a', litellm_budget_table: null, created_at: a.created_at });
    expect((await call(`/key/info?key=${a.token}`)).body.info.key_alias).toBe('info-a');
    const self = await call('/key/info', undefined, a.key);
    expect(self).toMatchObject({ status: 200, body: { key: a.token, info: { key_alias: 'info-a' } } });
    expect((await call(`/key/info?key=${a.key}`, undefined, a.key)).status).toBe(200);
    const other = await call(`/key/info?key=${b.key}`, undefined, a.key);
    expect(other.status).toBe(403);
    const missing = await call('/key/info?key=sk-does-not-exist-1234');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ type: 'not_found_error', message: 'Key not found in database' });
  });

  it('reads several keys at once', async () => {
    const a = await generate({ key_alias: 'v2-a' });
    const b = await generate({ key_alias: 'v2-b' });
    const res = await call('/v2/key/info', { keys: [a.key, b.token] });
    expect(res.status).toBe(200);
    expect(res.body.key).toEqual([a.key, b.token]);
    expect(res.body.info.map((i: Json) => i.key_alias)).toEqual(['v2-a', 'v2-b']);
    expect(res.body.info[0]).not.toHaveProperty('token');
  });
});

describe('audit log and OpenAPI', () => {
  // Runs last in this file: the generate and info tests above mint the 21 keys it looks for.
  it('never stores a plain key in the audit log', async () => {
    expect(plainKeys.length).toBeGreaterThan(20);
    await auditLogFreeOfPlainKeys();
  });

  it('documents every key route with its schema', async () => {
    const doc = await (await fetch(`${stack.url}/openapi.json`)).json() as Json;
    for (const path of ['/key/generate', '/key/update', '/key/delete', '/key/regenerate', '/key/{key}/regenerate', '/key/block', '/key/unblock']) {
      expect(doc.paths[path]?.post?.requestBody, path).toBeDefined();
    }
    expect(doc.paths['/key/generate'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('max_budget');
    expect(doc.paths['/key/list'].get.parameters.map((p: Json) => p.name)).toContain('size');
  });
});
