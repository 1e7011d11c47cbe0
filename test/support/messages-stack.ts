/**
 * The gateway behind the official Anthropic SDK on /v1/messages, for the messages suites
 * (messages-anthropic, messages-openai): an Anthropic model and an OpenAI one, each on its fake
 * upstream (reset before each test). Registers its own hooks.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export const weatherTool = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

export function useMessagesStack() {
  let anthropicFake: FakeUpstream;
  let openaiFake: FakeUpstream;
  let stack: TestStack;
  let client: Anthropic;
  beforeAll(async () => {
    anthropicFake = await startFakeAnthropic();
    openaiFake = await startFakeUpstream();
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropicFake.url}", api_key: sk-ant-upstream-0001}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${openaiFake.url}/v1", api_key: sk-openai-upstream-0002}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
litellm_settings:
  drop_params: false
`,
    });
    client = new Anthropic({ baseURL: stack.url, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await anthropicFake?.close();
    await openaiFake?.close();
  });
  beforeEach(() => {
    anthropicFake.reset();
    openaiFake.reset();
  });

  return {
    get anthropicFake() { return anthropicFake; },
    get openaiFake() { return openaiFake; },
    get stack() { return stack; },
    get client() { return client; },
  };
}
