import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { CONFIG_SECRET, DB_SECRET, modelsApi, NEW_SECRET, startModelsStacks } from './support/admin-models.ts';
import { eventually, seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let fakeA: FakeUpstream;
let fakeB: FakeUpstream;
let stack: TestStack;
let plain: TestStack | undefined;
let client: OpenAI;

beforeAll(async () => {
  ({ fakeA, fakeB, stack, plain } = await startModelsStacks({ plain: true }));
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(() => Promise.all([stack?.stop(), plain?.stop(), fakeA?.close(), fakeB?.close()]));
beforeEach(() => [fakeA, fakeB].forEach((f) => f.reset()));

const { api, addModel } = modelsApi(() => stack);

const chatTo = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello db model' }] }).withResponse();

const auditOf = (id: string) => query(stack.db.url, 'SELECT * FROM "LiteLLM_AuditLog" WHERE object_id = $1 ORDER BY updated_at', [id]);

async function storedParams(id: string): Promise<Record<string, unknown>> {
  const [row] = await query(stack.db.url, 'SELECT litellm_params FROM "LiteLLM_ProxyModelTable" WHERE model_id = $1', [id]);
  return row?.litellm_params as Record<string, unknown>;
}


describe('POST /model/new', () => {
  it('stores the model with its key encrypted and serves it at once, no restart', async () => {
    const row = await addModel('db-gpt', { model: 'openai/gpt-4o-mini', api_base: `${fakeA.url}/v1`, api_key: DB_SECRET, rpm: '60' }, { access_groups: ['db-group'] });
    expect(row).toMatchObject({
      model_name: 'db-gpt',
      litellm_params: { model: 'openai/gpt-4o-mini', api_base: `${fakeA.url}/v1`, rpm: 60 },
      model_info: { id: row.model_id, access_groups: ['db-group'] },
      created_by: 'master_key',
      updated_by: 'master_key',
    });
    expect(row.model_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row.litellm_params).not.toHaveProperty('api_key');
    expect([row.created_at, row.updated_at].map(Date.parse)).not.toContain(NaN);

    const { data, response } = await chatTo('db-gpt');
    expect(data.choices[0]?.message.content).toBe('echo: hello db model');
    expect(response.headers.get('x-litellm-model-id')).toBe(row.model_id);
    const [sent] = fakeA.requests;
    expect(sent?.headers.authorization).toBe(`Bearer ${DB_SECRET}`);
    expect((sent?.body as { model: string }).model).toBe('gpt-4o-mini');
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['config-gpt', 'db-gpt']);

    const stored = await storedParams(row.model_id);
    expect(JSON.stringify(stored)).not.toContain(DB_SECRET);
    expect(stored.api_key).toMatch(/^tg:v1:[A-Za-z0-9_-]{40,}$/);
    const audit = await auditOf(row.model_id);
    expect(audit).toEqual([expect.objectContaining({ action: 'created', table_name: 'LiteLLM_ProxyModelTable' })]);
    expect(JSON.stringify(audit)).not.toContain(DB_SECRET);
  });

  it('stores os.environ/ references as given and resolves them in the gateway', async () => {
    const row = await addModel('env-gpt', { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1`, api_key: 'os.environ/CONFIG_KEY' });
    expect((await storedParams(row.model_id)).api_key).toBe('os.environ/CONFIG_KEY');
    await chatTo('env-gpt');
    expect(fakeA.requests[0]?.headers.authorization).toBe(`Bearer ${CONFIG_SECRET}`);
  });

  it('validates with the config schema: 422 naming the field, before anything is written', async () => {
    const before = await query(stack.db.url, 'SELECT count(*)::int AS n FROM "LiteLLM_ProxyModelTable"');
    const badProvider = await api('/model/new', { model_name: 'x', litellm_params: { model: 'azzure/gpt-4o', api_key: DB_SECRET } });
    expect(badProvider.status).toBe(422);
    expect(badProvider.json.error).toMatchObject({ param: 'litellm_params.model', code: '422' });
    expect(badProvider.json.error.message).toContain('litellm_params.model: unknown provider "azzure"');
    expect(badProvider.text).not.toContain(DB_SECRET);

    const several = await api('/model/new', { litellm_params: { model: 'openai/gpt-4o', api_base: 'not a url', rpm: -1 } });
    expect(several.status).toBe(422);
    expect(several.json.error.message).toMatch(/model_name: .*litellm_params\.api_base: expected an http\(s\) URL.*litellm_params\.rpm/);

    expect((await api('/model/new', { model_name: 'x' })).status).toBe(422);
    expect((await api('/model/new', '{not json')).status).toBe(400);
    const clash = await api('/model/new', { model_name: 'x', litellm_params: { model: 'openai/gpt-4o' }, model_info: { id: 'config-gpt-1' } });
    expect(clash.status).toBe(400);
    const after = await query(stack.db.url, 'SELECT count(*)::int AS n FROM "LiteLLM_ProxyModelTable"');
    expect(after).toEqual(before);
  });

  it('refuses a key that is not a proxy admin with 403', async () => {
    const key = await seedKey(stack.db.url);
    const res = await api('/model/new', { model_name: 'x', litellm_params: { model: 'openai/gpt-4o' } }, { key });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toBe('Only proxy admins can add models. Your role=internal_user');
    expect((await api('/model/delete', { id: 'anything' }, { key })).status).toBe(403);
    expect((await api('/model/update', { model_info: { id: 'anything' } }, { key })).status).toBe(403);
  });

  it("answers LiteLLM's 500 without store_model_in_db, and lists config models only", async () => {
    const res = await api('/model/new', { model_name: 'x', litellm_params: { model: 'openai/gpt-4o' } }, { on: plain });
    expect(res.status).toBe(500);
    expect(res.json.error.message).toBe("Set 'STORE_MODEL_IN_DB='True'' in your env to enable this feature.");
    const info = await api('/model/info', undefined, { on: plain });
    expect(info.json.data.map((d: { model_name: string }) => d.model_name)).toEqual(['config-gpt']);
  });
});

describe('changing and deleting DB models', () => {
  it('/model/update moves the model to a new upstream and key within seconds', async () => {
    const row = await addModel('moving-gpt', { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1`, api_key: DB_SECRET });
    await chatTo('moving-gpt');
    expect(fakeA.requests).toHaveLength(1);

    const updated = await api('/model/update', { model_name: 'moving-gpt', litellm_params: { model: 'openai/gpt-4o', api_base: `${fakeB.url}/v1`, api_key: NEW_SECRET }, model_info: { id: row.model_id, mode: 'chat' } });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toMatchObject({ model_id: row.model_id, litellm_params: { api_base: `${fakeB.url}/v1` }, model_info: { id: row.model_id, mode: 'chat' } });
    expect(updated.text).not.toContain(NEW_SECRET);

    await eventually(async () => {
      await chatTo('moving-gpt');
      const sent = fakeB.requests.at(-1);
      return sent?.headers.authorization === `Bearer ${NEW_SECRET}` ? true : undefined;
    }, 10_000);
    const audit = await auditOf(row.model_id);
    expect(audit.map((a) => a.action)).toEqual(['created', 'updated']);
    expect(JSON.stringify(audit)).not.toContain(NEW_SECRET);
  });

  it('/model/update keeps credentials it is not sent; PATCH merges fields and null removes one', async () => {
    const row = await addModel('patched-gpt', { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1`, api_key: DB_SECRET, rpm: 5 });
    const put = await api('/model/update', { litellm_params: { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1` }, model_info: { id: row.model_id } });
    expect(put.status, put.text).toBe(200);
    expect(put.json.litellm_params).toEqual({ model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1` });
    expect((await storedParams(row.model_id)).api_key).toMatch(/^tg:v1:/);

    const patch = await api(`/model/${row.model_id}/update`, { litellm_params: { tpm: 1000, api_base: null }, model_info: { base_model: 'gpt-4o' } }, { method: 'PATCH' });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.json.litellm_params).toEqual({ model: 'openai/gpt-4o', tpm: 1000 });
    expect(patch.json.model_info).toEqual({ id: row.model_id, base_model: 'gpt-4o' });

    const bad = await api(`/model/${row.model_id}/update`, { litellm_params: { model: 'nope/x' } }, { method: 'PATCH' });
    expect(bad.status).toBe(422);
    expect((await api('/model/update', { model_info: { id: 'no-such-model' } })).status).toBe(404);
    expect((await api('/model/update', { model_info: { id: 'config-gpt-1' } })).status).toBe(400);
  });

  it('/model/delete removes the model: calls to it get 400 within seconds', async () => {
    const row = await addModel('doomed-gpt', { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1`, api_key: DB_SECRET });
    await chatTo('doomed-gpt');
    const res = await api('/model/delete', { id: row.model_id });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ message: `Model: ${row.model_id} deleted successfully` });
    await eventually(async () => {
      try {
        await chatTo('doomed-gpt');
        return undefined;
      } catch (err) {
        return err instanceof OpenAI.BadRequestError ? err : undefined;
      }
    }, 10_000);
    expect((await api('/model/delete', { id: row.model_id })).status).toBe(404);
    expect((await api('/model/delete', { id: 'config-gpt-1' })).status).toBe(400);
    expect((await auditOf(row.model_id)).map((a) => a.action)).toEqual(['created', 'deleted']);
  });

  it('a DB model named like a config group adds a deployment to it; config models stay', async () => {
    await addModel('config-gpt', { model: 'openai/gpt-4o', api_base: `${fakeB.url}/v1`, api_key: DB_SECRET });
    await eventually(async () => {
      await chatTo('config-gpt');
      return fakeA.requests.length > 0 && fakeB.requests.length > 0 ? true : undefined;
    }, 10_000);
    expect(fakeA.requests.every((r) => r.headers.authorization === `Bearer ${CONFIG_SECRET}`)).toBe(true);
    expect(fakeB.requests.every((r) => r.headers.authorization === `Bearer ${DB_SECRET}`)).toBe(true);
  });
});

describe('/openapi.json', () => {
  it('describes the model and spend routes with their request schemas', async () => {
    const res = await fetch(`${stack.url}/openapi.json`);
    const doc = await res.json() as { paths: Record<string, Record<string, any>> };
    const body = doc.paths['/model/new']?.post?.requestBody?.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['model_name', 'litellm_params']));
    expect(body.properties.litellm_params.properties).toHaveProperty('api_key');
    expect(doc.paths['/model/{model_id}/update']).toHaveProperty('patch');
    expect(doc.paths['/model/delete']?.post?.requestBody.content['application/json'].schema.properties).toHaveProperty('id');
    expect(doc.paths['/model/info']).toHaveProperty('get');
    expect(doc.paths['/spend/logs']?.get?.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['request_id', 'api_key', 'start_date', 'end_date']));
    expect(doc.paths['/global/spend/report']?.get?.parameters.map((p: { name: string }) => p.name)).toContain('group_by');
  });
});
