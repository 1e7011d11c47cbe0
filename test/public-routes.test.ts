import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { CONFIG, HEADER_SECRET, ids, publicRouteCaller, UPSTREAM_SECRET } from './support/public-routes-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.public_routes: read-only model and price routes a request may call without a key, as LiteLLM's
// view-only caller; routes that make model calls, or show keys, spend or secrets, are refused by the config.
// What a keyless caller sees of a deployment, and the config's checks: public-routes-model-info.test.ts.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
});
afterAll(async () => stack?.stop());

const call = publicRouteCaller(() => stack);

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
