import { expect } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

// The model management suites' stacks (test/admin-models*.test.ts): a config model, config-gpt, on fake A.

export const CONFIG_SECRET = 'sk-config-upstream-secret-0001';
export const DB_SECRET = 'sk-db-upstream-secret-0002';
export const NEW_SECRET = 'sk-db-upstream-rotated-0003';

/** Two fake upstreams and a gateway with store_model_in_db; with `plain`, a second one without it. */
export async function startModelsStacks(options: { plain?: boolean } = {}): Promise<{ fakeA: FakeUpstream; fakeB: FakeUpstream; stack: TestStack; plain?: TestStack }> {
  const [fakeA, fakeB] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  const models = `
model_list:
  - model_name: config-gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${fakeA.url}/v1", api_key: os.environ/CONFIG_KEY}
    model_info: {id: config-gpt-1}
`;
  const [stack, plain] = await Promise.all([
    startTestStack({ configYaml: `${models}general_settings:\n  store_model_in_db: true\n`, env: { CONFIG_KEY: CONFIG_SECRET, LITELLM_SALT_KEY: 'test-salt-key-0123456789' } }),
    options.plain ? startTestStack({ configYaml: models, env: { CONFIG_KEY: CONFIG_SECRET } }) : undefined,
  ]);
  return { fakeA, fakeB, stack, plain };
}

/** The admin API as these suites call it (master key unless `key`), and /model/new expecting a 200. */
export function modelsApi(stack: () => TestStack) {
  async function api(path: string, body?: unknown, options: { key?: string; method?: string; on?: TestStack } = {}) {
    const res = await fetch(`${(options.on ?? stack()).url}${path}`, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${options.key ?? TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, any> };
  }
  async function addModel(name: string, params: Record<string, unknown>, info: Record<string, unknown> = {}) {
    const res = await api('/model/new', { model_name: name, litellm_params: params, model_info: info });
    expect(res.status, res.text).toBe(200);
    return res.json;
  }
  return { api, addModel };
}
