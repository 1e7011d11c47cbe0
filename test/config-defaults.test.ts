import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// router_settings.default_litellm_params: litellm_params every deployment takes where it sets none, decided when the
// config is validated; a defaulted secret is treated as the deployment's own (never shown, never quoted).

const DEFAULT_KEY = 'sk-default-upstream-secret-0001';
const OWN_KEY = 'sk-own-upstream-secret-0002';
let upstream: FakeUpstream;
let other: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  [upstream, other] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: defaulted
    litellm_params: {model: openai/gpt-4o}
  - model_name: own
    litellm_params: {model: openai/gpt-4o, api_base: "${other.url}/v1", api_key: ${OWN_KEY}, timeout: 30}
  - model_name: own-org
    litellm_params: {model: openai/gpt-4o, organization: org-own}
    model_info: {id: own-org-1}
router_settings:
  num_retries: 0
  default_litellm_params:
    api_base: "${upstream.url}/v1"
    api_key: os.environ/DEFAULT_OPENAI_KEY
    timeout: 0.5
`,
    env: { DEFAULT_OPENAI_KEY: DEFAULT_KEY, LITELLM_SALT_KEY: 'test-salt-key-0123456789' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([upstream?.close(), other?.close()]);
});
beforeEach(() => {
  upstream.reset();
  other.reset();
});

describe('default_litellm_params', () => {
  it('gives a deployment without api_base, api_key and timeout the defaults', async () => {
    await client.chat.completions.create({ model: 'defaulted', messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${DEFAULT_KEY}`);
    // The default timeout (0.5 s) holds: a hanging upstream is a 408.
    upstream.enqueue({ kind: 'hang' });
    const err = await client.chat.completions.create({ model: 'defaulted', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e as { status: number });
    expect((err as { status: number }).status).toBe(408);
  });

  it('keeps a deployment\'s own values', async () => {
    upstream.enqueue({ kind: 'hang' });
    await client.chat.completions.create({ model: 'own', messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.requests).toHaveLength(0);
    expect(other.requests[0]?.headers.authorization).toBe(`Bearer ${OWN_KEY}`);
  });

  it('never shows a defaulted key in /model/info', async () => {
    const res = await fetch(`${stack.url}/model/info`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(DEFAULT_KEY);
    expect(text).not.toContain(OWN_KEY);
    const entry = (JSON.parse(text) as { data: { model_name: string; litellm_params: Record<string, unknown> }[] }).data.find((e) => e.model_name === 'defaulted');
    expect(entry?.litellm_params.api_key).toBeUndefined();
    expect(entry?.litellm_params).toMatchObject({ model: 'openai/gpt-4o', api_base: `${upstream.url}/v1`, timeout: 0.5 });
  });
});

describe('default_litellm_params and stored credentials', () => {
  it("copies only a deployment's own credential values to /credentials, never a defaulted key", async () => {
    const post = await fetch(`${stack.url}/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credential_name: 'copied', model_id: 'own-org-1' }),
    });
    expect(post.status, await post.text()).toBe(200);
    const [row] = await query(stack.db.url, 'SELECT credential_values FROM "LiteLLM_CredentialsTable" WHERE credential_name = $1', ['copied']);
    expect(row?.credential_values).toEqual({ organization: 'org-own' });
    // A deployment with nothing but defaults has nothing to copy.
    const info = await (await fetch(`${stack.url}/model/info`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })).json() as { data: { model_name: string; model_info: { id: string } }[] };
    const id = info.data.find((e) => e.model_name === 'defaulted')?.model_info.id;
    const refused = await fetch(`${stack.url}/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credential_name: 'nothing', model_id: id }),
    });
    expect([refused.status, await refused.text()]).toEqual([400, expect.stringContaining('Unable to infer credential values from model ID')]);
  });
});

describe('default_litellm_params when the config is checked', () => {
  const config = (defaults: Record<string, unknown>) => ({ model_list: [{ model_name: 'm', litellm_params: { model: 'openai/gpt-4o' } }], router_settings: { default_litellm_params: defaults } });

  it('warns about keys that make no sense to default, naming them and never a value', () => {
    const result = validateConfig(config({ model: 'openai/gpt-3.5-turbo', rpm: 10, input_cost_per_token: 1, api_key: 'os.environ/SECRET_KEY' }), { SECRET_KEY: 'sk-never-quoted-0003' });
    expect(result.ok).toBe(true);
    expect(result.warnings.join('\n')).not.toContain('sk-never-quoted-0003');
    expect(result.warnings.filter((w) => w.startsWith('router_settings.default_litellm_params'))).toEqual([
      expect.stringMatching(/^router_settings\.default_litellm_params\.model: ignored \(a deployment's model is its own;/),
      expect.stringMatching(/^router_settings\.default_litellm_params\.rpm: ignored \(the router reads it from each deployment/),
      expect.stringMatching(/^router_settings\.default_litellm_params\.input_cost_per_token: ignored \(a default price/),
    ]);
    if (result.ok) expect(result.config.model_list[0]?.litellm_params).toMatchObject({ model: 'openai/gpt-4o', api_key: 'sk-never-quoted-0003' });
  });

  it("leaves a deployment's credential (its own, or its litellm_credential_name's) whole, and AWS defaults to Bedrock", () => {
    const result = validateConfig({
      credential_list: [{ credential_name: 'aws', credential_values: { aws_access_key_id: 'AKIACRED', aws_secret_access_key: 'cred-secret' } }],
      model_list: [
        { model_name: 'named', litellm_params: { model: 'bedrock/anthropic.claude-3-haiku', litellm_credential_name: 'aws' } },
        { model_name: 'own', litellm_params: { model: 'bedrock/anthropic.claude-3-haiku', aws_access_key_id: 'AKIAOWN', aws_secret_access_key: 'own-secret' } },
        { model_name: 'env', litellm_params: { model: 'bedrock/anthropic.claude-3-haiku' } },
        { model_name: 'openai', litellm_params: { model: 'openai/gpt-4o' } },
      ],
      router_settings: { default_litellm_params: { api_key: 'sk-openai-default', aws_session_token: 'default-token', aws_access_key_id: 'AKIADEFAULT', aws_secret_access_key: 'default-secret' } },
    }, {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [named, own, env, openai] = result.config.model_list.map((e) => e.litellm_params);
    expect(named).toEqual({ model: 'bedrock/anthropic.claude-3-haiku', litellm_credential_name: 'aws', aws_access_key_id: 'AKIACRED', aws_secret_access_key: 'cred-secret' });
    expect(own).toEqual({ model: 'bedrock/anthropic.claude-3-haiku', aws_access_key_id: 'AKIAOWN', aws_secret_access_key: 'own-secret' });
    expect(env).toEqual({ model: 'bedrock/anthropic.claude-3-haiku', aws_session_token: 'default-token', aws_access_key_id: 'AKIADEFAULT', aws_secret_access_key: 'default-secret' });
    expect(openai).toEqual({ model: 'openai/gpt-4o', api_key: 'sk-openai-default' });
  });

  it('names a bad default as the default\'s, without its value', () => {
    const result = validateConfig(config({ api_base: 'not a url secret-ish' }), {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toEqual(['model_list[0].litellm_params.api_base: expected an http(s) URL (from router_settings.default_litellm_params)']);
      expect(result.errors.join()).not.toContain('secret-ish');
    }
  });
});
