import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.public_routes: read-only model and price routes a request may call without a key, as LiteLLM's
// view-only caller; routes that make model calls, or show keys, spend or secrets, are refused by the config.

const UPSTREAM_SECRET = 'sk-upstream-secret-0123456789abcdef';
const HEADER_SECRET = 'header-value-that-is-a-secret';
// What a deployment's model and model_info can say that a request without a key must not learn.
const ACCOUNT_ID = '123456789012';
const BEDROCK_ARN = `arn:aws:bedrock:us-east-1:${ACCOUNT_ID}:application-inference-profile/ops-claude`;
const TEAM_ID = 'team-ops-7f3a';
const ACCESS_GROUP = 'restricted-beta';
const OWNER = 'ops-owner@corp.example.invalid';

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: ${UPSTREAM_SECRET}
      api_base: https://llm.internal.example.invalid/v1
      extra_headers: {x-tenant: ${HEADER_SECRET}}
      rpm: 60
  - model_name: claude-arn
    litellm_params: {model: "bedrock/${BEDROCK_ARN}", rpm: 30}
    model_info:
      base_model: "anthropic.claude-3-5-sonnet-20240620-v1:0"
      team_id: ${TEAM_ID}
      access_groups: [${ACCESS_GROUP}]
      owner_email: ${OWNER}
      supports_vision: true
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
  allowed_ips: ["203.0.113.7"]
  use_x_forwarded_for: true
  public_routes: ["LiteLLMRoutes.public_routes", "/v1/models", "/model/info", "/model_group/info", "/spend/calculate", "/utils/token_counter", "/cost/estimate", "/health/readiness"]
`;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
});
afterAll(async () => stack?.stop());

interface Call { key?: string; body?: unknown; method?: string; from?: string }

/** A request from the allowed address; without `key`, with no key at all. */
async function call(path: string, { key, body, method, from = '203.0.113.7' }: Call = {}) {
  const res = await fetch(`${stack.url}${path}`, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, any> };
}

const ids = (json: Record<string, any>) => (json.data as { id: string }[]).map((m) => m.id).sort();

describe('a request without a key on a public route', () => {
  it('lists every model at GET /v1/models', async () => {
    const res = await call('/v1/models');
    expect(res.status, res.text).toBe(200);
    expect(ids(res.json)).toEqual(['claude-arn', 'gpt-4o', 'mock-gpt']);
  });

  it('reads /model/info and /model_group/info with no credential, host or header of any deployment', async () => {
    const info = await call('/model/info');
    expect(info.status, info.text).toBe(200);
    const gpt = (info.json.data as { model_name: string; litellm_params: Record<string, unknown> }[]).find((d) => d.model_name === 'gpt-4o');
    // The rates; nothing that says which model, where or as whom the deployment connects.
    expect(gpt?.litellm_params).toEqual({ rpm: 60 });
    for (const secret of [UPSTREAM_SECRET, HEADER_SECRET, 'llm.internal.example.invalid', TEST_MASTER_KEY]) expect(info.text).not.toContain(secret);
    const groups = await call('/model_group/info');
    expect(groups.status, groups.text).toBe(200);
    expect((groups.json.data as { model_group: string; rpm: number | null }[]).find((g) => g.model_group === 'gpt-4o')?.rpm).toBe(60);
    expect(groups.text).not.toContain(UPSTREAM_SECRET);
  });

  it('prices and counts at /spend/calculate, /cost/estimate and /utils/token_counter, calling no provider', async () => {
    const calculated = await call('/spend/calculate', { body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] } });
    expect(calculated.status, calculated.text).toBe(200);
    expect(typeof calculated.json.cost).toBe('number');
    const estimate = await call('/cost/estimate', { body: { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 } });
    expect(estimate.status, estimate.text).toBe(200);
    expect(estimate.json.cost_per_request).toBeCloseTo(0.0075, 10);
    const counted = await call('/utils/token_counter', { body: { model: 'mock-gpt', messages: [{ role: 'user', content: 'hello there' }] } });
    expect(counted.status, counted.text).toBe(200);
    expect(counted.json.tokenizer_type).toBe('tollgate_estimate');
  });

  it('is still held to allowed_ips, before anything else', async () => {
    const res = await call('/v1/models', { from: '198.51.100.9' });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toBe('Access forbidden: IP address 198.51.100.9 not allowed.');
    expect((await call('/model/info', { from: '198.51.100.9' })).status).toBe(403);
  });
});

describe('routes that are not public', () => {
  it('answer a request without a key with the usual 401, listed paths being exact (/models is not /v1/models)', async () => {
    for (const path of ['/models', '/v1/models/mock-gpt', '/v2/model/info', '/v1/model/info', '/key/info', '/key/list', '/spend/logs', '/global/spend', '/user/info', '/credentials', '/health']) {
      const res = await call(path);
      expect(res.status, `${path}: ${res.text}`).toBe(401);
      expect(res.json.error.message, path).toBe('Authentication Error, No api key passed in.');
    }
  });

  it('let nothing be written or called without a key: no model call, key, user, team, model or reset', async () => {
    const keysBefore = (await query(stack.db.url, 'SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"'))[0];
    const writes: [string, unknown][] = [
      ['/v1/chat/completions', { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }],
      ['/utils/transform_request', { call_type: 'completion', request_body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] } }],
      ['/key/generate', {}], ['/user/new', { user_id: 'anon' }], ['/team/new', { team_alias: 'anon' }],
      ['/model/new', { model_name: 'x', litellm_params: { model: 'openai/gpt-4o' } }], ['/key/delete', { keys: ['sk-x'] }],
      ['/global/spend/reset', {}], ['/model/info', {}],
    ];
    for (const [path, body] of writes) {
      const res = await call(path, { body });
      expect([401, 404, 405], `${path}: ${res.text}`).toContain(res.status);
    }
    expect((await query(stack.db.url, 'SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"'))[0]).toEqual(keysBefore);
    expect(await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', ['anon'])).toHaveLength(0);
    expect(await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_SpendLogs"')).toHaveLength(0);
  });
});

describe('a request with a key on a public route', () => {
  it('is authenticated as anywhere else: a key sees its own models, an unknown key is a 401', async () => {
    const key = await seedKey(stack.db.url, { models: ['mock-gpt'], userId: 'public-route-user' });
    const own = await call('/v1/models', { key });
    expect(own.status, own.text).toBe(200);
    expect(ids(own.json)).toEqual(['mock-gpt']);
    expect(ids((await call('/v1/models', { key: TEST_MASTER_KEY })).json)).toEqual(['claude-arn', 'gpt-4o', 'mock-gpt']);
    const unknown = await call('/v1/models', { key: 'sk-never-issued-0000' });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error.type).toBe('token_not_found_in_db');
    expect((await call('/model/info', { key: 'sk-never-issued-0000' })).status).toBe(401);
    // The key's model list holds it on /model/info too, where the public caller sees every model.
    const info = await call('/model/info', { key });
    expect((info.json.data as { model_name: string }[]).map((d) => d.model_name)).toEqual(['mock-gpt']);
  });
});

type InfoEntry = { model_name: string; litellm_params: Record<string, unknown>; model_info: Record<string, unknown> };
const named = (json: Record<string, any>, name: string) => (json.data as InfoEntry[]).find((d) => d.model_name === name);
const UNSHOWN = [BEDROCK_ARN, ACCOUNT_ID, TEAM_ID, ACCESS_GROUP, OWNER, 'anthropic.claude-3-5-sonnet'];

describe('what a request without a key sees of a deployment', () => {
  it('at /model/info: the group, its mode, prices, token limits, rates and supports_* flags; not the model, team_id, access groups, ids or other fields', async () => {
    const res = await call('/model/info');
    expect(res.status, res.text).toBe(200);
    for (const text of UNSHOWN) expect(res.text).not.toContain(text);
    const claude = named(res.json, 'claude-arn');
    expect(claude?.litellm_params).toEqual({ rpm: 30 });
    expect(Object.keys(claude?.model_info ?? {}).sort()).toEqual(['cache_creation_input_token_cost', 'cache_read_input_token_cost', 'input_cost_per_token',
      'max_input_tokens', 'max_output_tokens', 'max_tokens', 'mode', 'output_cost_per_token', 'supports_vision']);
    expect(claude?.model_info).toMatchObject({ mode: 'chat', input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, supports_vision: true });
    expect(typeof claude?.model_info.max_input_tokens).toBe('number');
  });

  it('at /model_group/info: the group\'s limits, prices, mode and rates, and not which providers serve it', async () => {
    const res = await call('/model_group/info');
    expect(res.status, res.text).toBe(200);
    for (const text of UNSHOWN) expect(res.text).not.toContain(text);
    expect((res.json.data as { model_group: string }[]).find((g) => g.model_group === 'claude-arn')).toMatchObject({
      model_group: 'claude-arn', providers: [], mode: 'chat', input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, rpm: 30, tpm: null,
    });
  });

  it('at /utils/token_counter: model_used is the model group, not the deployment\'s model', async () => {
    const res = await call('/utils/token_counter', { body: { model: 'claude-arn', messages: [{ role: 'user', content: 'hello there' }] } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ total_tokens: expect.any(Number), request_model: 'claude-arn', model_used: 'claude-arn', tokenizer_type: 'tollgate_estimate' });
    for (const text of UNSHOWN) expect(res.text).not.toContain(text);
  });

  it('while a key\'s caller (the master key here) sees all of it, as without public_routes', async () => {
    const info = await call('/model/info', { key: TEST_MASTER_KEY });
    expect(info.status, info.text).toBe(200);
    expect(named(info.json, 'claude-arn')).toEqual({
      model_name: 'claude-arn',
      litellm_params: { model: `bedrock/${BEDROCK_ARN}`, rpm: 30 },
      model_info: expect.objectContaining({
        base_model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', team_id: TEAM_ID, access_groups: [ACCESS_GROUP], owner_email: OWNER, supports_vision: true,
        id: expect.any(String), db_model: false, litellm_provider: 'bedrock', mode: 'chat',
      }),
    });
    expect(named(info.json, 'gpt-4o')?.litellm_params).toEqual({ model: 'openai/gpt-4o', api_base: 'https://llm.internal.example.invalid/v1', extra_headers: { 'x-tenant': HEADER_SECRET }, rpm: 60 });
    const groups = await call('/model_group/info', { key: TEST_MASTER_KEY });
    expect((groups.json.data as { model_group: string; providers: string[] }[]).find((g) => g.model_group === 'claude-arn')?.providers).toEqual(['bedrock']);
    const counted = await call('/utils/token_counter', { key: TEST_MASTER_KEY, body: { model: 'claude-arn', messages: [{ role: 'user', content: 'hello there' }] } });
    expect(counted.json.model_used).toBe(BEDROCK_ARN);
  });
});

describe('with store_model_in_db', () => {
  it('answers a request without a key from config.yaml\'s models alone, never reading the table; a key\'s caller sees the stored models too', async () => {
    const added = await call('/model/new', { key: TEST_MASTER_KEY, body: { model_name: 'stored-gpt', litellm_params: { model: 'openai/gpt-4o-mini', rpm: 5 }, model_info: { team_id: TEAM_ID } } });
    expect(added.status, added.text).toBe(200);
    const groupsOf = (json: Record<string, any>) => [...new Set((json.data as InfoEntry[]).map((d) => d.model_name))].sort();
    expect(groupsOf((await call('/model/info', { key: TEST_MASTER_KEY })).json)).toEqual(['claude-arn', 'gpt-4o', 'mock-gpt', 'stored-gpt']);
    // The table renamed away: a key's caller, who reads it, fails; a request without a key does not notice.
    await query(stack.db.url, 'ALTER TABLE "LiteLLM_ProxyModelTable" RENAME TO "LiteLLM_ProxyModelTable_away"');
    try {
      expect((await call('/model/info', { key: TEST_MASTER_KEY })).status).toBe(500);
      const info = await call('/model/info');
      expect(info.status, info.text).toBe(200);
      expect(groupsOf(info.json)).toEqual(['claude-arn', 'gpt-4o', 'mock-gpt']);
      const groups = await call('/model_group/info');
      expect(groups.status, groups.text).toBe(200);
      expect((groups.json.data as { model_group: string }[]).map((g) => g.model_group).sort()).toEqual(['claude-arn', 'gpt-4o', 'mock-gpt']);
    } finally {
      await query(stack.db.url, 'ALTER TABLE "LiteLLM_ProxyModelTable_away" RENAME TO "LiteLLM_ProxyModelTable"');
    }
  });
});

describe('config validation', () => {
  const withRoutes = (public_routes: unknown, extra: Record<string, unknown> = {}) =>
    validateConfig({ model_list: [], general_settings: { public_routes, ...extra } }, {});

  it('refuses a route that makes model calls, naming it and why', () => {
    const result = withRoutes(['/v1/models', '/v1/chat/completions']);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toContainEqual(
      "general_settings.public_routes[1]: /v1/chat/completions cannot be public: it makes model calls, and every call must be made with a key, to be attributed and held to the key's limits");
  });

  it('refuses every other route that calls a provider, shows secrets, keys or spend, or writes; and patterns', () => {
    const refused = ['/chat/completions', '/v1/messages', '/v1/responses', '/openai/deployments/gpt/chat/completions', '/v1beta/models/gemini:generateContent',
      '/anthropic/v1/messages', '/mcp', '/v1/realtime', '/utils/transform_request', '/health', '/health/services', '/key/info', '/key/generate', '/spend/logs',
      '/global/spend', '/credentials', '/user/new', '/v1/*', '/model/*'];
    const result = withRoutes(refused);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    refused.forEach((route, i) => expect(errors.filter((e) => e.startsWith(`general_settings.public_routes[${i}]: ${route}`)), route).toHaveLength(1));
    expect(errors).toContain('general_settings.public_routes[0]: /chat/completions cannot be public: it makes model calls, and every call must be made with a key, to be attributed and held to the key\'s limits');
    expect(errors).toContain('general_settings.public_routes[9]: /health cannot be public: its health checks make real, paid calls to the deployments');
    expect(errors.find((e) => e.startsWith('general_settings.public_routes[11]'))).toMatch(/^general_settings\.public_routes\[11\]: \/key\/info cannot be public: only routes that show no keys, spend or secrets and write nothing may be \(\/v1\/models, /);
    expect(errors).toContain('general_settings.public_routes[17]: /v1/*: patterns are not taken here (a pattern could open routes that make model calls); list each route');
  });

  it('takes the read-only routes, LiteLLM\'s group name and routes open already, without a warning; warns where admin_only_routes holds one', () => {
    const taken = withRoutes(['LiteLLMRoutes.public_routes', '/v1/models', '/models', '/model/info', '/v1/model/info', '/v2/model/info', '/model_group/info',
      '/spend/calculate', '/utils/token_counter', '/utils/supported_openai_params', '/cost/estimate', '/health/liveliness', '/metrics']);
    expect(taken.ok).toBe(true);
    expect(taken.warnings.filter((w) => w.includes('public_routes'))).toEqual([]);
    const held = withRoutes(['/v1/models'], { admin_only_routes: ['/v1/models'] });
    expect(held.ok && held.warnings).toContain('general_settings.public_routes: /v1/models is also one of admin_only_routes, which holds it: a request without a key there gets a 403');
  });
});
