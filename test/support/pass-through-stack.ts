/**
 * The gateway with providers' own APIs passed through, for the pass-through suites (pass-through,
 * pass-through-billing, pass-through-config): an Anthropic model, an OpenAI one (lending its credential),
 * a Mistral one (lending its credential) and a Gemini one, and two config endpoints (a keyed one priced per
 * request, a public one), on fakes reset before each test. Registers its own hooks.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, type TestStack } from './stack.ts';

export function usePassThroughStack() {
  let anthropicFake: FakeUpstream;
  let openaiFake: FakeUpstream;
  let target: FakeUpstream;
  let stack: TestStack;
  beforeAll(async () => {
    anthropicFake = await startFakeAnthropic();
    openaiFake = await startFakeUpstream();
    target = await startFakeUpstream({ default: { kind: 'json', body: { result: [{ urls: ['https://img.test/1.png'] }] } } });
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropicFake.url}", api_key: sk-ant-upstream-0001}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${openaiFake.url}/v1", api_key: sk-openai-upstream-0002, use_in_pass_through: true}
  - model_name: mistral-small
    litellm_params: {model: mistral/mistral-small-latest, api_base: "${target.url}/v1", api_key: ms-upstream-0005, use_in_pass_through: true}
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${target.url}", api_key: gm-upstream-0004}
general_settings:
  pass_through_endpoints:
    - path: /bria
      target: "${target.url}/v1/text-to-image?model_version=3"
      headers: {Authorization: "Bearer os.environ/BRIA_API_KEY"}
      cost_per_request: 0.04
    - path: /public-tools
      target: "${target.url}/tools"
      include_subpath: true
      auth: false
      methods: [GET]
`,
      env: { BRIA_API_KEY: 'bria-secret-0003' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([anthropicFake?.close(), openaiFake?.close(), target?.close()]);
  });
  beforeEach(() => {
    anthropicFake.reset();
    openaiFake.reset();
    target.reset();
  });

  return {
    get anthropicFake() { return anthropicFake; },
    get openaiFake() { return openaiFake; },
    get target() { return target; },
    get stack() { return stack; },
    /** The official Anthropic client at the gateway's /anthropic. */
    anthropicAt: (key: string) => new Anthropic({ baseURL: `${stack.url}/anthropic`, apiKey: key, maxRetries: 0 }),
  };
}

export const callId = (headers: Headers) => headers.get('x-litellm-call-id') ?? '';
