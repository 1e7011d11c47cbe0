import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { CONFIG_SECRET, DB_SECRET, modelsApi, startModelsStacks } from './support/admin-models.ts';
import { seedKey } from './support/keys.ts';
import type { TestStack } from './support/stack.ts';

// What the model routes show: /model/info, /v2/model/info, /model_group/info, never a credential.

let fakeA: FakeUpstream;
let fakeB: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  ({ fakeA, fakeB, stack } = await startModelsStacks());
});
afterAll(() => Promise.all([stack?.stop(), fakeA?.close(), fakeB?.close()]));
beforeEach(() => [fakeA, fakeB].forEach((f) => f.reset()));

const { api, addModel } = modelsApi(() => stack);

describe('GET /model/info', () => {
  it("lists config.yaml's models and the database's, never a credential", async () => {
    const row = await addModel('info-gpt', { model: 'openai/gpt-4o', api_base: `${fakeB.url}/v1`, api_key: DB_SECRET, aws_secret_access_key: 'aws-secret-0004', extra_headers: { 'x-team': 'a', authorization: 'Bearer hdr-secret-0005' } });
    for (const path of ['/model/info', '/v1/model/info']) {
      const res = await api(path);
      expect(res.status).toBe(200);
      for (const secret of [CONFIG_SECRET, DB_SECRET, 'aws-secret-0004', 'hdr-secret-0005', 'tg:v1:']) expect(res.text).not.toContain(secret);
      const byId = new Map(res.json.data.map((d: { model_info: { id: string } }) => [d.model_info.id, d]));
      expect(byId.get('config-gpt-1')).toEqual({
        model_name: 'config-gpt',
        litellm_params: { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1` },
        model_info: expect.objectContaining({ id: 'config-gpt-1', db_model: false, mode: 'chat', input_cost_per_token: 2.5e-6, output_cost_per_token: 1e-5, max_input_tokens: 128000 }),
      });
      expect(byId.get(row.model_id)).toEqual({
        model_name: 'info-gpt',
        litellm_params: { model: 'openai/gpt-4o', api_base: `${fakeB.url}/v1`, extra_headers: { 'x-team': 'a' } },
        model_info: expect.objectContaining({ id: row.model_id, db_model: true, mode: 'chat' }),
      });
    }
    const one = await api(`/model/info?litellm_model_id=${row.model_id}`);
    expect(one.json.data).toHaveLength(1);
  });

  it('shows a virtual key only the models it may call', async () => {
    await addModel('hidden-gpt', { model: 'openai/gpt-4o', api_base: `${fakeB.url}/v1` });
    await addModel('grouped-gpt', { model: 'openai/gpt-4o', api_base: `${fakeB.url}/v1` }, { access_groups: ['beta'] });
    const key = await seedKey(stack.db.url, { models: ['config-gpt', 'beta'] });
    const res = await api('/model/info', undefined, { key });
    expect(res.status).toBe(200);
    expect(res.json.data.map((d: { model_name: string }) => d.model_name).sort()).toEqual(['config-gpt', 'grouped-gpt']);
  });

  it('/v2/model/info lists them by model group; /model_group/info sums each group up, both within what the key may call', async () => {
    await addModel('pair-gpt', { model: 'openai/gpt-4o', api_base: `${fakeA.url}/v1`, api_key: DB_SECRET, rpm: 100, tpm: 1000 });
    await addModel('pair-gpt', { model: 'openai/gpt-4o-mini', api_base: `${fakeB.url}/v1`, rpm: 50 });
    const v2 = await api('/v2/model/info?model=pair-gpt');
    expect(v2.status).toBe(200);
    expect(v2.text).not.toContain(DB_SECRET);
    expect(v2.json.data.map((d: { model_name: string; litellm_params: { model: string } }) => [d.model_name, d.litellm_params.model]).sort())
      .toEqual([['pair-gpt', 'openai/gpt-4o'], ['pair-gpt', 'openai/gpt-4o-mini']]);
    const groups = await api('/model_group/info');
    expect(groups.status).toBe(200);
    const pair = groups.json.data.find((g: { model_group: string }) => g.model_group === 'pair-gpt');
    expect(pair).toEqual({
      model_group: 'pair-gpt', providers: ['openai'], max_input_tokens: 128000, max_output_tokens: 16384,
      input_cost_per_token: 2.5e-6, output_cost_per_token: 1e-5, mode: 'chat', tpm: 1000, rpm: 150, is_public_model_group: false,
    });
    expect((await api('/model_group/info?model_group=config-gpt')).json.data.map((g: { model_group: string }) => g.model_group)).toEqual(['config-gpt']);
    const key = await seedKey(stack.db.url, { models: ['config-gpt'] });
    const mine = await api('/model_group/info', undefined, { key });
    expect(mine.json.data.map((g: { model_group: string }) => g.model_group)).toEqual(['config-gpt']);
    expect((await api('/v2/model/info', undefined, { key })).json.data.map((d: { model_name: string }) => d.model_name)).toEqual(['config-gpt']);
  });
});
