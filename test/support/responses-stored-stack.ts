/**
 * The gateway behind the official openai client for the stored-responses suites
 * (responses-stored, responses-stored-owners): a group of two OpenAI deployments (`pair`), an Azure
 * one, another group (`other`) and a wildcard group (`wild/*`), all on one fake upstream (reset
 * before each test). Registers its own hooks.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

/** A gateway response id's contents: the base64url text behind `resp_`. */
export const decoded = (id: string) => Buffer.from(id.slice('resp_'.length), 'base64url').toString('utf8');

export function useResponsesStoredStack() {
  let fake: FakeUpstream;
  let stack: TestStack;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: pair
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/a/v1", api_key: sk-upstream-a-0001}
    model_info: {id: deployment-a}
  - model_name: pair
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/b/v1", api_key: sk-upstream-b-0002}
    model_info: {id: deployment-b}
  - model_name: azure-4o
    litellm_params: {model: azure/my-4o, api_base: "${fake.url}", api_key: azure-upstream-0003, api_version: "2025-04-01-preview"}
    model_info: {id: deployment-azure}
  - model_name: other
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/c/v1", api_key: sk-upstream-c-0004}
    model_info: {id: deployment-c}
  - model_name: "wild/*"
    litellm_params: {model: "openai/*", api_base: "${fake.url}/w/v1", api_key: sk-upstream-w-0005}
    model_info: {id: deployment-wild}
router_settings:
  num_retries: 0
`,
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  return {
    get fake() { return fake; },
    get stack() { return stack; },
    get client() { return client; },
  };
}
