import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

/** The model list the data-path suites share: OpenAI, Azure, a self-hosted vLLM, embeddings, legacy completions, a model named without its provider, a dead upstream. */
const config = (upstream: string) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: azure-gpt
    litellm_params: {model: azure/prod-gpt4o, api_base: "${upstream}", api_key: os.environ/FAKE_AZURE_KEY, api_version: "2024-08-01-preview"}
  - model_name: llama
    litellm_params: {model: hosted_vllm/meta-llama/Llama-3.1-8B-Instruct, api_base: "${upstream}/v1"}
    model_info: {access_groups: [beta-models], input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: embedder
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: instruct
    litellm_params: {model: openai/gpt-3.5-turbo-instruct, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: bare-name
    litellm_params: {model: gpt-4o-mini, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
litellm_settings:
  drop_params: false
general_settings:
  max_request_size_mb: 1
  litellm_key_header_name: X-Tollgate-Key
`;

export interface DataPathStack {
  fake: FakeUpstream;
  stack: TestStack;
  /** The openai client, with the master key and no retries. */
  client: OpenAI;
}

/** A fake upstream and a gateway in front of it; the fake is closed again if the gateway fails to start. */
export async function startDataPathStack(): Promise<DataPathStack> {
  const fake = await startFakeUpstream();
  let stack: TestStack;
  try {
    stack = await startTestStack({
      configYaml: config(fake.url),
      env: { FAKE_OPENAI_KEY: 'sk-upstream-openai-secret-0001', FAKE_AZURE_KEY: 'azure-upstream-secret-0002' },
    });
  } catch (err) {
    await fake.close();
    throw err;
  }
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  return { fake, stack, client };
}

/**
 * A suite's data-path stack: started before its tests (handed to `set`), its fake reset before each
 * test, both stopped after them.
 */
export function useDataPathStack(set: (s: DataPathStack) => void): void {
  let started: DataPathStack | undefined;
  beforeAll(async () => {
    started = await startDataPathStack();
    set(started);
  });
  afterAll(async () => {
    await started?.stack.stop();
    await started?.fake.close();
  });
  beforeEach(() => started?.fake.reset());
}
