import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { query } from './support/pg-client.ts';
import {
  ACCESS_GROUP, ACCOUNT_ID, BEDROCK_ARN, CONFIG, HEADER_SECRET, OWNER, publicRouteCaller, TEAM_ID,
} from './support/public-routes-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.public_routes: what a request without a key sees of a deployment (model_info allowlist), the
// store_model_in_db case, and the config's refusal of routes that may not be public. Gateway behaviour: public-routes.test.ts.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
});
afterAll(async () => stack?.stop());

const call = publicRouteCaller(() => stack);

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
