import { TEST_MASTER_KEY, type TestStack } from './stack.ts';

// Shared by the /utils/supported_openai_params and /cost/estimate tests: one config of model groups whose
// upstreams are all a closed port, and the calls the tests make.

const DEAD = 'http://127.0.0.1:9';

export const UTILS_ROUTES_CONFIG = `
model_list:
  - model_name: mock-priced
    litellm_params: {model: mock/mock-gpt, mock_response: "A canned answer of some length.", input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-4o-custom
    litellm_params: {model: openai/gpt-4o, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
    model_info: {input_cost_per_token: 0.000005}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_base: "${DEAD}", api_key: sk-ant-0002}
  - model_name: bedrock-claude
    litellm_params: {model: "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", api_base: "${DEAD}", aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: not-a-secret-0000, aws_region_name: us-east-1}
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${DEAD}", api_key: gm-0003}
  - model_name: claude-or-gemini
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_base: "${DEAD}", api_key: sk-ant-0002}
  - model_name: claude-or-gemini
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${DEAD}", api_key: gm-0003}
  - model_name: reranker
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${DEAD}", api_key: co-0004}
  - model_name: o3-mini
    litellm_params: {model: openai/o3-mini, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: o1
    litellm_params: {model: openai/o1-2024-12-17, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-5
    litellm_params: {model: openai/gpt-5, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-5-chat
    litellm_params: {model: openai/gpt-5-chat-latest, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: gpt-5-search
    litellm_params: {model: openai/gpt-5-search-api, api_base: "${DEAD}/v1", api_key: sk-upstream-0001}
  - model_name: azure-reasoner
    litellm_params: {model: azure/team-deployment, api_base: "${DEAD}", api_key: az-0005, api_version: "2025-04-01-preview"}
    model_info: {base_model: azure/o4-mini}
  - model_name: azure-gpt-5
    litellm_params: {model: azure/gpt-5-mini, api_base: "${DEAD}", api_key: az-0005, api_version: "2025-04-01-preview"}
router_settings:
  model_group_alias: {sonnet: claude}
`;

/** The routes the tests call, against the stack `stack()` returns once it has started. */
export function utilsRoutesClient(stack: () => TestStack) {
  const supported = (model: string | undefined, key = TEST_MASTER_KEY) =>
    fetch(`${stack().url}/utils/supported_openai_params${model === undefined ? '' : `?model=${encodeURIComponent(model)}`}`, { headers: { authorization: `Bearer ${key}` } });
  const estimate = (body: unknown, key = TEST_MASTER_KEY) => fetch(`${stack().url}/cost/estimate`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const chat = (body: Record<string, unknown>) => fetch(`${stack().url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; code: string } }).error;
  return { supported, estimate, chat, errorOf };
}
