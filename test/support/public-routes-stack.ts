import type { TestStack } from './stack.ts';

// Shared by the public_routes tests: the config they run against and a caller from the allowed address.

export const UPSTREAM_SECRET = 'sk-upstream-secret-0123456789abcdef';
export const HEADER_SECRET = 'header-value-that-is-a-secret';
// What a deployment's model and model_info can say that a request without a key must not learn.
export const ACCOUNT_ID = '123456789012';
export const BEDROCK_ARN = `arn:aws:bedrock:us-east-1:${ACCOUNT_ID}:application-inference-profile/ops-claude`;
export const TEAM_ID = 'team-ops-7f3a';
export const ACCESS_GROUP = 'restricted-beta';
export const OWNER = 'ops-owner@corp.example.invalid';

/** mock-gpt, and a gpt-4o deployment whose upstream key, api_base and header are secrets. */
export const MOCK_AND_GPT_DEPLOYMENTS = `  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: ${UPSTREAM_SECRET}
      api_base: https://llm.internal.example.invalid/v1
      extra_headers: {x-tenant: ${HEADER_SECRET}}
      rpm: 60
`;

/** claude-arn: a Bedrock ARN naming the account, and model_info naming its team, access group and owner. */
export const CLAUDE_ARN_DEPLOYMENT = `  - model_name: claude-arn
    litellm_params: {model: "bedrock/${BEDROCK_ARN}", rpm: 30}
    model_info:
      base_model: "anthropic.claude-3-5-sonnet-20240620-v1:0"
      team_id: ${TEAM_ID}
      access_groups: [${ACCESS_GROUP}]
      owner_email: ${OWNER}
      supports_vision: true
`;

export const CONFIG = `
model_list:
${MOCK_AND_GPT_DEPLOYMENTS}${CLAUDE_ARN_DEPLOYMENT}litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
  allowed_ips: ["203.0.113.7"]
  use_x_forwarded_for: true
  public_routes: ["LiteLLMRoutes.public_routes", "/v1/models", "/model/info", "/model_group/info", "/spend/calculate", "/utils/token_counter", "/cost/estimate", "/health/readiness"]
`;

export interface Call { key?: string; body?: unknown; method?: string; from?: string }

/** A request from the allowed address; without `key`, with no key at all. */
export function publicRouteCaller(stack: () => TestStack) {
  return async function call(path: string, { key, body, method, from = '203.0.113.7' }: Call = {}) {
    const res = await fetch(`${stack().url}${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, any> };
  };
}

export const ids = (json: Record<string, any>) => (json.data as { id: string }[]).map((m) => m.id).sort();
