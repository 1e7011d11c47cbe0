/**
 * The stack the prompt-management suites share (prompt-management, -access, -db, -db-access): the fake upstream,
 * the fake generic prompt API and the gateway over them with config.yaml's prompts, started and stopped by the
 * calling test file's hooks, and the helpers the suites call the gateway with.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect } from 'vitest';
import { type FakePromptApi, startFakePromptApi } from '../fakes/prompt-api.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export const PROMPT_KEY = 'pk-prompt-api-secret-0001';
export let fake: FakeUpstream;
export let promptApi: FakePromptApi;
export let stack: TestStack;
export let client: OpenAI;

export type Extra = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming & Record<string, unknown>;
export const sent = () => fake.requests.at(-1)!.body as Record<string, unknown>;

/** Starts the fakes and the gateway with the prompts config (registered as the calling test file's hooks). */
export function usePromptStack(): void {
  beforeAll(async () => {
    fake = await startFakeUpstream();
    promptApi = await startFakePromptApi(PROMPT_KEY);
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-up}
  - model_name: big
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-up}
prompts:
  - prompt_id: tutor
    litellm_params:
      prompt_id: tutor
      prompt_integration: dotprompt
      dotprompt_content: |
        ---
        temperature: 0.2
        max_tokens: 64
        ---
        System: You tutor {{ subject }} for {{level}} students.

        User: Start with {{ subject }}.
  - prompt_id: routed
    litellm_params:
      prompt_integration: dotprompt
      prompt_data:
        content: "Answer in {{lang}}."
        metadata: {model: big}
  - prompt_id: looping
    litellm_params:
      prompt_integration: dotprompt
      dotprompt_content: "{% for x in items %}{{ x }}{% endfor %}"
  - prompt_id: remote
    litellm_params:
      prompt_integration: generic_prompt_management
      api_base: "${promptApi.url}"
      api_key: os.environ/PROMPT_API_KEY
      provider_specific_query_params: {project_name: litellm, slug: hello-world}
      timeout: 1
  - prompt_id: remote-down
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY, timeout: 1}
  - prompt_id: remote-hang
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY, timeout: 1}
  - prompt_id: remote-fresh-1
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY}
  - prompt_id: remote-fresh-2
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY}
  - prompt_id: humanloop-one
    litellm_params: {prompt_integration: humanloop}
`,
      env: { PROMPT_API_KEY: PROMPT_KEY },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    promptApi.prompts.set('remote', {
      prompt_template: [{ role: 'system', content: 'You help with {task}.' }, { role: 'user', content: 'Task: {{task}}' }],
      prompt_template_model: 'big',
      prompt_template_optional_params: { temperature: 0.7, max_tokens: 500 },
    });
    promptApi.prompts.set('remote-down', 'fail');
    promptApi.prompts.set('remote-hang', 'hang');
  });
  afterAll(async () => {
    await stack?.stop();
    await promptApi?.close();
    await fake?.close();
  });
}

/** Posts a call expected to be refused: asserts the provider was sent nothing, and returns the status and error. */
export async function refusal(body: Record<string, unknown>, path = '/v1/chat/completions', key = TEST_MASTER_KEY) {
  const before = fake.requests.length;
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json() as { error: { message: string; type: string; param: string | null; code: string } };
  expect(fake.requests.length).toBe(before);
  return { status: res.status, error: json.error };
}
