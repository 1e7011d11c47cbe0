import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from './support/pg-client.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
  - model_name: other-model
    litellm_params: {model: mock/other-model}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

type Json = Record<string, any>;
let stack: TestStack;
/** Every plain key seen, to prove none reaches the database or the audit log. */
const plainKeys: string[] = [];

async function call(path: string, body?: unknown, key: string | null = TEST_MASTER_KEY, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as Json };
}
async function generate(body: Json = {}, key = TEST_MASTER_KEY): Promise<Json> {
  const res = await call('/key/generate', body, key);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  plainKeys.push(res.body.key);
  return res.body;
}
const rows = (sql: string, params: unknown[] = []) => query<Json>(stack.databaseUrl, sql, params);
const keyRow = async (token: string) => (await rows('SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [token]))[0];
const audits = (objectId: string) => rows('SELECT * FROM "LiteLLM_AuditLog" WHERE object_id = $1 ORDER BY updated_at', [objectId]);
const chat = (key: string, model = 'mock-gpt') => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 })
  .chat.completions.create({ model, messages: [{ role: 'user', content: 'ping' }] });
const countKeys = async () => Number((await rows('SELECT count(*) AS n FROM "LiteLLM_VerificationToken"'))[0]?.n);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles) VALUES
    ('team-a', 'A', '{alice}', '[]'), ('team-b', 'B', '{}', '[{"role":"admin","user_id":"bob"},{"role":"user","user_id":"alice"}]')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('alice', 'internal_user')`);
  await rows(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget) VALUES ('budget-1', 42)`);
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
      'aliases', 'allowed_cache_controls', 'allowed_routes', 'blocked', 'budget_duration', 'budget_id', 'budget_reset_at', 'config',
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
    expect((await generate({ team_id: 'team-b', user_id: 'dave' }, bob)).team_id).toBe('team-b');
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

describe('GET /key/list', () => {
  it('pages hashes or full objects, sorted and filtered', async () => {
    const made = [];
    for (const alias of ['l-c', 'l-a', 'l-b']) made.push(await generate({ key_alias: alias, user_id: 'lister' }));
    const page1 = await call('/key/list?user_id=lister&size=2&sort_by=key_alias&sort_order=asc');
    expect(page1).toMatchObject({ status: 200, body: { total_count: 3, current_page: 1, total_pages: 2 } });
    const byAlias = Object.fromEntries(made.map((m) => [m.key_alias, m.token]));
    expect(page1.body.keys).toEqual([byAlias['l-a'], byAlias['l-b']]);
    const page2 = await call('/key/list?user_id=lister&size=2&page=2&sort_by=key_alias&sort_order=asc&return_full_object=true');
    expect(page2.body.keys).toHaveLength(1);
    expect(page2.body.keys[0]).toMatchObject({ token: byAlias['l-c'], key_alias: 'l-c', user_id: 'lister' });
    expect((await call(`/key/list?key_alias=l-b`)).body.keys).toEqual([byAlias['l-b']]);
    expect((await call('/key/list?size=101')).status).toBe(422);
    const own = await call('/key/list', undefined, made[0]?.key);
    expect(own.body.total_count).toBe(3);
    expect((await call('/key/list?user_id=someone-else', undefined, made[0]?.key)).status).toBe(403);
  });

  it('shows a team admin their team\'s keys', async () => {
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    await generate({ team_id: 'team-a', user_id: 'someone' });
    const team = await call('/key/list?team_id=team-a&return_full_object=true&size=100', undefined, alice);
    expect(team.status).toBe(200);
    expect(team.body.keys.every((k: Json) => k.team_id === 'team-a')).toBe(true);
    const [{ n }] = await rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE user_id = 'alice' OR team_id = 'team-a'`) as [Json];
    expect((await call('/key/list?include_team_keys=true', undefined, alice)).body.total_count).toBe(n);
  });
});

describe('POST /key/update', () => {
  it('changes fields, clears nulls, and audits with litellm-changed-by', async () => {
    const k = await generate({ key_alias: 'upd', rpm_limit: 10, max_budget: 1, metadata: { a: 1 } });
    const res = await call('/key/update', { key: k.key, rpm_limit: null, max_budget: 5, models: ['mock-gpt'], metadata: { b: 2 }, team_id: 'team-a' },
      TEST_MASTER_KEY, { 'litellm-changed-by': 'ops@example.com' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key: k.token, token: k.token, rpm_limit: null, max_budget: 5, models: ['mock-gpt'], metadata: { a: 1, b: 2 }, team_id: 'team-a', key_alias: 'upd' });
    expect(await keyRow(k.token)).toMatchObject({ rpm_limit: null, max_budget: 5, team_id: 'team-a' });
    expect((await audits(k.token)).at(-1)).toMatchObject({ action: 'updated', changed_by: 'ops@example.com', before_value: { rpm_limit: 10 }, updated_values: { rpm_limit: null } });
    const byAlias = await call('/key/update', { key_alias: 'upd', temp_budget_increase: 3, temp_budget_expiry: '2030-01-01T00:00:00Z' });
    expect(byAlias.body.metadata).toMatchObject({ temp_budget_increase: 3, temp_budget_expiry: '2030-01-01T00:00:00Z' });
  });

  it('refuses bad updates without changing anything', async () => {
    const k = await generate({ max_budget: 1 });
    expect((await call('/key/update', { key: k.key, max_budget: -2 })).status).toBe(400);
    expect((await call('/key/update', { key: k.key, temp_budget_increase: 1 })).status).toBe(400);
    expect((await call('/key/update', { key: k.key, team_id: 'nope' })).status).toBe(400);
    expect((await call('/key/update', { key: k.key, rpm_limit: 'x' })).body.error.param).toBe('rpm_limit');
    expect((await call('/key/update', { max_budget: 2 })).status).toBe(422);
    expect((await call('/key/update', { key: 'sk-missing-000000', max_budget: 2 })).status).toBe(404);
    const plain = await seedKey(stack.databaseUrl, { userId: 'carol' });
    expect((await call('/key/update', { key: k.key, max_budget: 2 }, plain)).status).toBe(403);
    expect((await keyRow(k.token))?.max_budget).toBe(1);
    expect(await audits(k.token)).toHaveLength(1);
  });
});

describe('POST /key/delete', () => {
  it('moves rows to the deleted table in one transaction', async () => {
    const a = await generate({ key_alias: 'del-a' });
    const b = await generate({ key_alias: 'del-b' });
    expect((await call('/key/delete', { keys: [a.key, 'sk-not-there-0000'] })).status).toBe(404);
    expect(await keyRow(a.token)).toBeDefined();
    const res = await call('/key/delete', { keys: [a.key] });
    expect(res).toMatchObject({ status: 200, body: { deleted_keys: [a.key] } });
    expect((await call('/key/delete', { key_aliases: ['del-b'] })).body).toEqual({ deleted_keys: ['del-b'] });
    for (const k of [a, b]) {
      expect(await keyRow(k.token)).toBeUndefined();
      const [copy] = await rows('SELECT * FROM "LiteLLM_DeletedVerificationToken" WHERE token = $1', [k.token]);
      expect(copy).toMatchObject({ key_alias: k.key_alias, deleted_by_api_key: sha256(TEST_MASTER_KEY) });
      expect((await audits(k.token)).map((r) => r.action)).toEqual(['created', 'deleted']);
    }
  });

  it('lets a user delete their own key, and nobody else\'s', async () => {
    const own = await generate({ user_id: 'erin' });
    const other = await generate({ user_id: 'frank' });
    expect((await call('/key/delete', { keys: [other.token] }, own.key)).status).toBe(403);
    expect(await keyRow(other.token)).toBeDefined();
    expect((await call('/key/delete', { keys: [own.token] }, own.key)).status).toBe(200);
    expect(await keyRow(own.token)).toBeUndefined();
  });
});

describe('POST /key/regenerate', () => {
  it('keeps the row with a new hash; the new key works', async () => {
    const k = await generate({ key_alias: 'rot', spend: 1.5, max_budget: 10, models: ['mock-gpt'] });
    const res = await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { max_budget: 20 });
    expect(res.status).toBe(200);
    plainKeys.push(res.body.key);
    expect(res.body).toMatchObject({ token: sha256(res.body.key), token_id: sha256(res.body.key), key_name: `sk-...${res.body.key.slice(-4)}`,
      key_alias: 'rot', spend: 1.5, max_budget: 20, models: ['mock-gpt'], rotation_count: 1 });
    expect(res.body.key).not.toBe(k.key);
    expect(res.body.last_rotation_at).toBeTruthy();
    expect(await keyRow(k.token)).toBeUndefined();
    expect(await rows('SELECT * FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [k.token])).toHaveLength(0);
    expect(await keyRow(res.body.token)).toMatchObject({ spend: 1.5, key_alias: 'rot', created_at: new Date(k.created_at) });
    expect((await chat(res.body.key)).choices[0]?.message.content).toBe('pong');
    expect((await audits(res.body.token))[0]).toMatchObject({ action: 'regenerated' });
  });

  it('keeps the old hash for a grace period, and validates new_key', async () => {
    const k = await generate({});
    const res = await call('/key/regenerate', { key: k.token, new_key: 'sk-rotated-custom-0002', grace_period: '24h' });
    expect(res.body).toMatchObject({ key: 'sk-rotated-custom-0002', token: sha256('sk-rotated-custom-0002') });
    const [dep] = await rows('SELECT * FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [k.token]);
    expect(dep?.active_token_id).toBe(sha256('sk-rotated-custom-0002'));
    expect(Math.abs(new Date(dep?.revoke_at).getTime() - Date.now() - 86_400_000)).toBeLessThan(60_000);
    const bad = await call('/key/regenerate', { key: 'sk-rotated-custom-0002', new_key: 'plain-0003' });
    expect(bad.body.error).toMatchObject({ type: 'bad_request_error', param: 'new_key', code: '400' });
    expect(await keyRow(sha256('sk-rotated-custom-0002'))).toMatchObject({ rotation_count: 1 });
    expect((await call('/key/regenerate', { key: 'sk-missing-0000000' })).status).toBe(404);
  });
});

describe('POST /key/block and /key/unblock', () => {
  it('flips the column; the gateway refuses a blocked key at once, and serves it again once unblocked', async () => {
    const k = await generate({});
    expect((await chat(k.key)).choices[0]?.message.content).toBe('pong');
    const blocked = await call('/key/block', { key: k.key });
    expect(blocked.body).toMatchObject({ token: k.token, blocked: true });
    expect((await keyRow(k.token))?.blocked).toBe(true);
    expect(await chat(k.key).catch((e: { status?: number }) => e.status)).toBe(403);
    const unblocked = await call('/key/unblock', { key: k.token });
    expect(unblocked.body).toMatchObject({ token: k.token, blocked: false });
    expect((await chat(k.key)).choices[0]?.message.content).toBe('pong');
    expect((await audits(k.token)).map((r) => r.action)).toEqual(['created', 'blocked', 'unblocked']);
    expect((await call('/key/block', { key: 'sk-missing-00000000' })).status).toBe(404);
  });
});

describe('audit log and OpenAPI', () => {
  it('never stores a plain key in the audit log', async () => {
    const all = (await rows('SELECT row_to_json(a)::text AS j FROM "LiteLLM_AuditLog" a')).map((r) => r.j as string).join('\n');
    expect(plainKeys.length).toBeGreaterThan(20);
    for (const key of [...plainKeys, TEST_MASTER_KEY]) expect(all).not.toContain(key);
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
