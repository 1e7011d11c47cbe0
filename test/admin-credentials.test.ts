import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { modelsApi } from './support/admin-models.ts';
import { eventually, seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's reusable credentials: config.yaml's credential_list and the /credentials API, named by models'
// litellm_credential_name, through the real gateway and admin Worker in workerd.

const CONFIG_SECRET = 'sk-config-credential-secret-0001';
const DB_SECRET = 'sk-db-credential-secret-0002';
const ROTATED_SECRET = 'sk-db-credential-rotated-0003';

let fakeA: FakeUpstream;
let fakeB: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  [fakeA, fakeB] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  stack = await startTestStack({
    configYaml: `
credential_list:
  - credential_name: config-cred
    credential_values: {api_key: os.environ/CONFIG_KEY, api_base: "${fakeA.url}/v1"}
    credential_info: {description: from config}
model_list:
  - model_name: config-gpt
    litellm_params: {model: openai/gpt-4o, litellm_credential_name: config-cred}
    model_info: {id: config-gpt-1}
general_settings:
  store_model_in_db: true
`,
    env: { CONFIG_KEY: CONFIG_SECRET, LITELLM_SALT_KEY: 'test-salt-key-0123456789' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(() => Promise.all([stack?.stop(), fakeA?.close(), fakeB?.close()]));
beforeEach(() => [fakeA, fakeB].forEach((f) => f.reset()));

const { api, addModel } = modelsApi(() => stack);
const chat = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
const credentialRow = async (name: string) =>
  (await query(stack.db.url, 'SELECT * FROM "LiteLLM_CredentialsTable" WHERE credential_name = $1', [name]))[0];

describe("config.yaml's credential_list", () => {
  it("serves a model with its credential's key and base, listed masked by /credentials", async () => {
    await chat('config-gpt');
    expect(fakeA.requests[0]?.headers.authorization).toBe(`Bearer ${CONFIG_SECRET}`);

    const listed = await api('/credentials');
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual({
      success: true,
      credentials: [{ credential_name: 'config-cred', credential_values: { api_key: '...0001', api_base: `${fakeA.url}/v1` }, credential_info: { description: 'from config' } }],
    });
    const info = await api('/model/info');
    expect(info.json.data[0].litellm_params).toEqual({ model: 'openai/gpt-4o', litellm_credential_name: 'config-cred', api_base: `${fakeA.url}/v1` });
    expect(info.text).not.toContain(CONFIG_SECRET);
    // config.yaml's credentials change in config.yaml only.
    for (const res of [
      await api('/credentials', { credential_name: 'config-cred', credential_values: { api_key: 'x' } }),
      await api('/credentials/config-cred', { credential_values: { api_key: 'x' } }, { method: 'PATCH' }),
      await api('/credentials/config-cred', undefined, { method: 'DELETE' }),
    ]) {
      expect(res.status, res.text).toBe(400);
      expect(res.json.error.message).toBe("Credential config-cred is defined in config.yaml's credential_list; change it there");
    }
  });
});

describe('/credentials', () => {
  it('stores a credential with its secret sealed; a DB model naming it calls with it; a rotation is served within seconds', async () => {
    const created = await api('/credentials', {
      credential_name: 'team-b/openai', credential_values: { api_key: DB_SECRET, api_base: `${fakeB.url}/v1`, extra_headers: { 'X-Route': 'b', Authorization: 'Bearer header-secret-0004' } },
      credential_info: { custom_llm_provider: 'openai' },
    });
    expect(created.json).toEqual({ success: true, message: 'Credential created successfully' });
    const row = (await credentialRow('team-b/openai'))!;
    expect(JSON.stringify(row)).not.toContain(DB_SECRET);
    expect(row.credential_values).toEqual({
      api_key: expect.stringMatching(/^tg:v1:/), api_base: `${fakeB.url}/v1`, extra_headers: { 'X-Route': 'b', Authorization: expect.stringMatching(/^tg:v1:/) },
    });
    expect(JSON.stringify(row)).not.toContain('header-secret');
    expect(row.created_by).toBe('default_user_id');

    const byName = await api(`/credentials/by_name/${encodeURIComponent('team-b/openai')}`);
    const shown = { api_key: '...0002', api_base: `${fakeB.url}/v1`, extra_headers: { 'X-Route': 'b', Authorization: '...0004' } };
    expect(byName.json).toEqual({ credential_name: 'team-b/openai', credential_values: shown, credential_info: { custom_llm_provider: 'openai' } });

    const model = await addModel('db-gpt', { model: 'openai/gpt-4o-mini', litellm_credential_name: 'team-b/openai' });
    expect(model.litellm_params).toEqual({ model: 'openai/gpt-4o-mini', litellm_credential_name: 'team-b/openai' });
    await chat('db-gpt');
    expect(fakeB.requests[0]?.headers['x-route']).toBe('b');
    expect((fakeB.requests[0]?.body as { model: string }).model).toBe('gpt-4o-mini');

    // The UI sends what GET showed back with a change: the stored secrets stay, headers merge one by one; then a real rotation.
    const kept = await api('/credentials/team-b%2Fopenai', { credential_values: { ...shown, extra_headers: { Authorization: '...0004', 'X-New': '1' }, api_version: '2024-10-21' } }, { method: 'PATCH' });
    expect(kept.json).toEqual({ success: true, message: 'Credential updated successfully' });
    expect((await api('/credentials/by_name/team-b%2Fopenai')).json.credential_values).toEqual({ ...shown, extra_headers: { ...shown.extra_headers, 'X-New': '1' }, api_version: '2024-10-21' });
    await api('/credentials/team-b%2Fopenai', { credential_values: { api_key: ROTATED_SECRET, api_version: null, extra_headers: { Authorization: null, 'X-New': null } }, credential_info: { description: 'rotated' } }, { method: 'PATCH' });
    expect((await api('/credentials/by_name/team-b%2Fopenai')).json).toEqual({
      credential_name: 'team-b/openai', credential_values: { api_key: '...0003', api_base: `${fakeB.url}/v1`, extra_headers: { 'X-Route': 'b' } },
      credential_info: { custom_llm_provider: 'openai', description: 'rotated' },
    });
    await eventually(async () => {
      fakeB.reset();
      await chat('db-gpt');
      return fakeB.requests[0]?.headers.authorization === `Bearer ${ROTATED_SECRET}` ? true : undefined;
    });

    // In use: neither deleted nor renamed, until the model goes.
    const refused = await api('/credentials/team-b%2Fopenai', undefined, { method: 'DELETE' });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toBe(`Credential team-b/openai is used by models ${model.model_id}; point them at another credential before deleting it`);
    const rename = await api('/credentials/team-b%2Fopenai', { credential_name: 'renamed' }, { method: 'PATCH' });
    expect([rename.status, rename.json.error.message]).toEqual([400, `Credential team-b/openai is used by models ${model.model_id}; point them at another credential before renaming it`]);
    expect(await credentialRow('team-b/openai')).toBeDefined();
    await api('/model/delete', { id: model.model_id });
    expect((await api('/credentials/team-b%2Fopenai', undefined, { method: 'DELETE' })).json).toEqual({ success: true, message: 'Credential deleted successfully' });
    expect(await credentialRow('team-b/openai')).toBeUndefined();
    expect((await api('/credentials/by_name/team-b%2Fopenai')).status).toBe(404);

    type Audited = { action: string; before_value: { masked_values: Record<string, unknown> }; updated_values: { masked_values: Record<string, unknown> } };
    const audit: Audited[] = await query(stack.db.url, `SELECT action, before_value, updated_values FROM "LiteLLM_AuditLog" WHERE table_name = 'LiteLLM_CredentialsTable' AND object_id = $1 ORDER BY updated_at`, [row.credential_id]);
    expect(audit.map((a) => a.action)).toEqual(['created', 'updated', 'updated', 'deleted']);
    // What changed is in the audit log (api_version added, then removed), never a secret.
    expect([audit[1]?.before_value.masked_values.api_version, audit[1]?.updated_values.masked_values.api_version, audit[2]?.updated_values.masked_values.api_version])
      .toEqual([undefined, '2024-10-21', undefined]);
    expect(audit[0]?.updated_values.masked_values.api_base).toBe(`${fakeB.url}/v1`);
    expect(JSON.stringify(await query(stack.db.url, 'SELECT * FROM "LiteLLM_AuditLog"'))).not.toMatch(/sk-db-credential|header-secret/);
  });

  it("copies a model's credentials with model_id, and shows a model's with /credentials/by_model", async () => {
    expect((await api('/credentials', { credential_name: 'copied', model_id: 'config-gpt-1' })).status).toBe(200);
    expect((await api('/credentials/by_name/copied')).json.credential_values).toEqual({ api_key: '...0001', api_base: `${fakeA.url}/v1` });
    expect(JSON.stringify(await credentialRow('copied'))).not.toContain(CONFIG_SECRET);
    const byModel = await api('/credentials/by_model/config-gpt-1');
    expect(byModel.json).toEqual({ credential_name: 'config-gpt-credential-config-gpt-1', credential_values: { api_key: '...0001', api_base: `${fakeA.url}/v1` }, credential_info: {} });
    expect((await api('/credentials/by_model/nope')).status).toBe(404);
    // A model on the copy calls fake A with config.yaml's key.
    await addModel('copied-gpt', { model: 'openai/gpt-4o', litellm_credential_name: 'copied' });
    await chat('copied-gpt');
    expect(fakeA.requests[0]?.headers.authorization).toBe(`Bearer ${CONFIG_SECRET}`);
  });

  it('refuses bad input with a clear 4xx and writes nothing', async () => {
    const cases: [unknown, number, string][] = [
      [{ credential_name: 'no-values' }, 400, 'Credential values are required. Unable to infer credential values from model ID.'],
      [{ credential_name: 'bad-base', credential_values: { api_base: 'not a url' } }, 422, 'Invalid request body: credential_values.api_base: expected an http(s) URL'],
      [{ credential_name: '', credential_values: { api_key: 'x' } }, 422, 'Invalid request body: credential_name: must not be empty'],
      [{ credential_name: 'list', credential_values: ['x'] }, 422, 'Invalid request body: credential_values: expected a mapping of litellm_params values'],
      [{ credential_name: 'model', credential_values: { api_key: 'x', use_in_pass_through: true } }, 422,
        'Invalid request body: credential_values.use_in_pass_through: not a credential field (expected one of api_key, api_base, api_version, organization, region_name, aws_access_key_id, aws_secret_access_key, aws_session_token, aws_region_name, vertex_project, vertex_location, vertex_credentials, extra_headers)'],
      [{ credential_name: 'masked', credential_values: { api_key: '...0002' } }, 400, 'credential_values.api_key is a masked value; send the secret itself'],
      [{ credential_name: 'leak', credential_values: { api_key: 'os.environ/LITELLM_MASTER_KEY', api_base: 'https://collector.example' } }, 422,
        "Invalid request body: credential_values: os.environ/LITELLM_MASTER_KEY is one of the gateway's own secrets"],
    ];
    for (const [body, status, message] of cases) {
      const res = await api('/credentials', body);
      expect([res.status, res.json.error.message]).toEqual([status, message]);
    }
    expect((await query(stack.db.url, `SELECT credential_name FROM "LiteLLM_CredentialsTable" WHERE credential_name IN ('no-values', 'bad-base', 'list', 'model', 'masked', 'leak')`))).toEqual([]);

    await api('/credentials', { credential_name: 'dup', credential_values: { api_key: 'x' } });
    const dup = await api('/credentials', { credential_name: 'dup', credential_values: { api_key: 'y' } });
    expect([dup.status, dup.json.error.message]).toEqual([400, 'Credential dup already exists']);
    expect((await api('/credentials/missing', { credential_values: {} }, { method: 'PATCH' })).status).toBe(404);
    expect((await api('/credentials/dup', { credential_values: { api_base: 'nope' } }, { method: 'PATCH' })).status).toBe(422);

    const unknown = await api('/model/new', { model_name: 'orphan', litellm_params: { model: 'openai/gpt-4o', litellm_credential_name: 'nowhere' } });
    expect([unknown.status, unknown.json.error.message]).toEqual([400, "No credential named nowhere (create it with POST /credentials, or in config.yaml's credential_list)"]);
    expect(await query(stack.db.url, `SELECT 1 FROM "LiteLLM_ProxyModelTable" WHERE model_name = 'orphan'`)).toEqual([]);

    const key = await seedKey(stack.db.url);
    const asKey = await api('/credentials', { credential_name: 'mine', credential_values: { api_key: 'x' } }, { key });
    expect(asKey.status).toBe(403);
    expect((await api('/credentials', undefined, { key })).status).toBe(403);
  });
});
