import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { adminClient, type Json } from './support/admin.ts';
import { query } from './support/pg-client.ts';
import { MODEL_HUB_CONFIG as CONFIG, UNSHOWN, useModelHubStack } from './support/public-model-hub-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's public model hub: GET /public/model_hub and /public/model_hub/info without a key, listing the groups
// litellm_settings.public_model_groups publishes. The list POST /model_group/make_public stores, and how often it is
// read, are in public-model-hub-make-public.test.ts.

const { stack, call, publicFlags } = useModelHubStack();

describe('GET /public/model_hub from config.yaml', () => {
  it('lists the published groups the gateway serves, in order, without a key, as LiteLLM\'s ModelGroupInfo and nothing private', async () => {
    const res = await fetch(`${stack().url}/public/model_hub`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    for (const secret of UNSHOWN) expect(text).not.toContain(secret);
    const listed = JSON.parse(text) as Json[];
    expect(listed.map((g) => g.model_group)).toEqual(['claude-arn', 'gpt-4o']);
    expect(listed[0]).toEqual({
      model_group: 'claude-arn', providers: ['bedrock'], max_input_tokens: expect.any(Number), max_output_tokens: expect.any(Number),
      input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, mode: 'chat', tpm: null, rpm: 30,
      supports_parallel_function_calling: false, supports_vision: true, supports_function_calling: false, supports_web_search: false, supports_reasoning: false,
      supported_openai_params: expect.arrayContaining(['max_tokens', 'temperature']), is_public_model_group: true,
    });
    // Two deployments: their rates summed, one provider.
    expect(listed[1]).toMatchObject({ model_group: 'gpt-4o', providers: ['openai'], rpm: 100, tpm: 1000, mode: 'chat', supports_vision: false });
  });

  it('answers a request carrying any key, or a bad one, the same: it takes no key', async () => {
    const withBadKey = await call('/public/model_hub', undefined, 'sk-not-a-key');
    expect(withBadKey.status).toBe(200);
    expect((withBadKey.body as unknown as Json[]).map((g) => g.model_group)).toEqual(['claude-arn', 'gpt-4o']);
  });

  it('/model_group/info flags the published groups (is_public_model_group), as LiteLLM does', async () => {
    expect(await publicFlags()).toEqual({ 'claude-arn': true, 'gpt-4o': true, 'mock-gpt': false });
  });

  it('GET /public/model_hub/info: the title, version and config.yaml\'s links, without a key', async () => {
    const res = await call('/public/model_hub/info', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ docs_title: 'LiteLLM API', custom_docs_description: null, litellm_version: expect.any(String), useful_links: { Docs: 'https://docs.example.invalid/start' } });
  });
});

describe('without store_model_in_db', () => {
  let plain: TestStack;
  beforeAll(async () => {
    plain = await startTestStack({ configYaml: CONFIG.replace('  store_model_in_db: true\n', '') });
  });
  afterAll(async () => plain?.stop());
  const plainClient = adminClient(() => plain);

  it('serves config.yaml\'s list alone (a stored row is not read), and make_public is LiteLLM\'s 500 asking for it', async () => {
    await query(plain.databaseUrl, `INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('litellm_settings', '{"public_model_groups": ["mock-gpt"]}')`);
    const res = await plainClient.call('/public/model_hub', undefined, null);
    expect((res.body as unknown as Json[]).map((g) => g.model_group)).toEqual(['claude-arn', 'gpt-4o']);
    const refused = await plainClient.call('/model_group/make_public', { model_groups: ['mock-gpt'] });
    expect(refused.status).toBe(500);
    expect(refused.body.error.message).toContain('STORE_MODEL_IN_DB');
  });
});

describe('config validation', () => {
  it('takes public_model_groups and its links, and the hub\'s routes in public_routes (they take no key already)', () => {
    const result = validateConfig({
      model_list: [], litellm_settings: { public_model_groups: ['a'], public_model_groups_links: { Docs: 'https://d.example.invalid' } },
      general_settings: { public_routes: ['/public/model_hub', '/public/model_hub/info'] },
    }, {});
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.warnings.filter((w) => w.includes('public_model_groups') || w.includes('public_routes'))).toEqual([]);
    expect(validateConfig({ model_list: [], litellm_settings: { public_model_groups: 'a' } }, {}).ok).toBe(false);
  });
});
