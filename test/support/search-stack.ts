// The Search API suites' stack (test/search-api-*.test.ts): LiteLLM's Search API (`/v1/search/{search_tool_name}`,
// `/search`, ...) over config.yaml's `search_tools`: fake Tavily, Perplexity, Exa and Brave on loopback, and the
// gateway with one search tool of each (plus one whose key the provider refuses and one without a credential);
// helpers to call the gateway and read a key's spend.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { type FakeSearch, SEARCH_KEYS, startFakeSearch } from '../fakes/search-providers.ts';
import { sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export let fake: FakeSearch;
export let stack: TestStack;
export const WRONG_KEY = 'tvly-wrong-key-9999';

/** Starts the suite's stack (registered as the calling test file's beforeAll/afterAll/beforeEach). */
export function useSearchStack(): void {
beforeAll(async () => {
  fake = await startFakeSearch();
  stack = await startTestStack({
    env: { TAVILY_TEST_KEY: SEARCH_KEYS.tavily },
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-0001}
search_tools:
  - search_tool_name: web
    litellm_params: {search_provider: tavily, api_key: os.environ/TAVILY_TEST_KEY, api_base: "${fake.url}/tavily"}
    search_tool_info: {description: Tavily web search}
  - search_tool_name: pplx
    litellm_params: {search_provider: perplexity, api_key: ${SEARCH_KEYS.perplexity}, api_base: "${fake.url}/perplexity/search"}
  - search_tool_name: exa
    litellm_params: {search_provider: exa_ai, api_key: ${SEARCH_KEYS.exa}, api_base: "${fake.url}/exa", input_cost_per_query: 0.01}
  - search_tool_name: stale-key
    litellm_params: {search_provider: tavily, api_key: ${WRONG_KEY}, api_base: "${fake.url}/tavily"}
  - search_tool_name: brave
    litellm_params: {search_provider: brave, api_key: ${SEARCH_KEYS.brave}, api_base: "${fake.url}/brave/res/v1/web/search"}
  - search_tool_name: exa-list
    litellm_params: {search_provider: exa_ai, api_key: ${SEARCH_KEYS.exa}, api_base: "${fake.url}/exa"}
  - search_tool_name: no-credential
    litellm_params: {search_provider: exa_ai, api_base: "${fake.url}/exa"}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());
}

export type Json = Record<string, any>;

export async function admin(path: string, body: Json): Promise<Json> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

export const generateKey = async (body: Json = {}) => (await admin('/key/generate', body)).key as string;

export const search = (path: string, body: unknown, key: string | null) => fetch(`${stack.url}${path}`, {
  method: 'POST', headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' }, body: JSON.stringify(body),
});

export const keySpend = async (key: string) => Number((await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]))[0]?.spend);
