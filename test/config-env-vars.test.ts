import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// config.yaml's environment_variables, as LiteLLM sets them at start: `os.environ/NAME` finds them,
// and the Worker's own environment wins where both name a variable.

let fake: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: from-config
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/CONFIG_ONLY_BASE, api_key: os.environ/CONFIG_ONLY_KEY}
  - model_name: env-wins
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/CONFIG_ONLY_BASE, api_key: os.environ/BOTH_KEY}
  - model_name: provider-default
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/CONFIG_ONLY_BASE}
environment_variables:
  OPENAI_API_KEY: sk-openai-default-from-config-0004
  CONFIG_ONLY_BASE: "${fake.url}/v1"
  CONFIG_ONLY_KEY: sk-from-the-config-0001
  BOTH_KEY: sk-config-loses-0002
`,
    env: { BOTH_KEY: 'sk-environment-wins-0003' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

describe('environment_variables', () => {
  it('resolve os.environ references the environment does not set, under the environment\'s own values', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'from-config', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBe('echo: hi');
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-from-the-config-0001');
    await client.chat.completions.create({ model: 'env-wins', messages: [{ role: 'user', content: 'hi' }] });
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer sk-environment-wins-0003');
  });

  it('are in the environment the Workers read directly too (a provider\'s default key)', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    fake.reset();
    await client.chat.completions.create({ model: 'provider-default', messages: [{ role: 'user', content: 'hi' }] });
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-openai-default-from-config-0004');
  });
});
