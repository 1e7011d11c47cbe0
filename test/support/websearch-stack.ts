/**
 * The stack of the web search interception suites (test/websearch-interception*.test.ts): workerd with the
 * callback on, a fake model on OpenAI's and Anthropic's wires (fakes/websearch-model.ts) and a fake Tavily, and
 * the clients and queries the suites share.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { type FakeSearch, SEARCH_KEYS, startFakeSearch } from '../fakes/search-providers.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { answerAsModel } from '../fakes/websearch-model.ts';
import { eventually, sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

type Json = Record<string, any>;

export const SEARCH_TOOL = {
  type: 'function' as const,
  function: { name: 'litellm_web_search', description: 'Search the web', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } },
};

export interface WebsearchStack {
  stack: TestStack;
  model: FakeUpstream;
  fake: FakeSearch;
}

/**
 * The stack: `enabled_providers: [openai, anthropic]`, search tool `web` (0.002 a query), `max_agentic_loops: 2`,
 * `too-long` and `short-window` falling back (context window) to `always-search-capped`;
 * `generalSettings` adds lines under general_settings (e.g. `max_request_size_mb: 0.05`).
 */
export async function startWebsearchStack(generalSettings: string[] = []): Promise<WebsearchStack> {
  const model = await startFakeUpstream({ default: { kind: 'handler', handle: answerAsModel } });
  const fake = await startFakeSearch();
  const upstream = `api_base: "${model.url}/v1", api_key: sk-upstream-secret-0001`;
  const stack = await startTestStack({
    env: { TAVILY_TEST_KEY: SEARCH_KEYS.tavily },
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, ${upstream}}
  - model_name: always-search
    litellm_params: {model: openai/always-search, ${upstream}, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: always-search-capped
    litellm_params: {model: openai/always-search, ${upstream}, max_agentic_loops: 1}
  - model_name: repeat-search
    litellm_params: {model: openai/repeat-search, ${upstream}}
  - model_name: two-accounts
    litellm_params: {model: openai/two-accounts, api_base: "${model.url}/v1", api_key: sk-upstream-secret-0003}
  - model_name: two-accounts
    litellm_params: {model: openai/two-accounts, api_base: "${model.url}/v1", api_key: sk-upstream-secret-0004}
  - model_name: too-long
    litellm_params: {model: openai/too-long, ${upstream}}
  - model_name: short-window
    litellm_params: {model: openai/short-window, ${upstream}}
  - model_name: ignores-none
    litellm_params: {model: openai/ignores-none, ${upstream}}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${model.url}", api_key: sk-ant-upstream-secret-0002}
  - model_name: many-search
    litellm_params: {model: openai/many-search, ${upstream}}
  - model_name: slow-answer
    litellm_params: {model: openai/slow-answer, ${upstream}}
  - model_name: call-own
    litellm_params: {model: openai/call-own, ${upstream}}
  - model_name: vllm-model
    litellm_params: {model: hosted_vllm/vllm-model, ${upstream}}
search_tools:
  - search_tool_name: web
    litellm_params: {search_provider: tavily, api_key: os.environ/TAVILY_TEST_KEY, api_base: "${fake.url}/tavily", input_cost_per_query: 0.002}
  - search_tool_name: other
    litellm_params: {search_provider: tavily, api_key: os.environ/TAVILY_TEST_KEY, api_base: "${fake.url}/tavily"}
router_settings:
  context_window_fallbacks: [{too-long: [always-search-capped]}, {short-window: [always-search-capped]}]
litellm_settings:
  callbacks: ["websearch_interception"]
  websearch_interception_params:
    enabled_providers: [openai, anthropic]
    search_tool_name: web
    max_agentic_loops: 2
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
${generalSettings.map((line) => `  ${line}\n`).join('')}`,
  });
  return { stack, model, fake };
}

export async function stopWebsearchStack(s: Partial<WebsearchStack>): Promise<void> {
  await s.stack?.stop();
  await s.model?.close();
  await s.fake?.close();
}

/** The suites' helpers on a started stack. */
export function websearchClients(s: WebsearchStack) {
  return {
    async newKey(body: Json = {}): Promise<string> {
      const res = await fetch(`${s.stack.url}/key/generate`, {
        method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as Json).key as string;
    },
    openai: (key: string) => new OpenAI({ baseURL: `${s.stack.url}/v1`, apiKey: key, maxRetries: 0 }),
    anthropic: (key: string) => new Anthropic({ baseURL: s.stack.url, apiKey: key, maxRetries: 0 }),
    sentToModel: (i: number) => s.model.requests[i]!.body as Json,
    /** The key's spend rows, once there are `count`. */
    spendRows: (key: string, count: number) => eventually(async () => {
      const rows = await query(s.stack.db.url, 'SELECT call_type, spend, model_group, end_user, request_tags FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"', [sha256(key)]);
      return rows.length >= count ? rows : undefined;
    }),
  };
}

/**
 * Registers the calling suite's stack (beforeAll/afterAll, and the fakes' reset before each test), so each suite
 * does not repeat it: `started` gets the parts once up, for a suite that reads them directly. Returns the suite's
 * helpers, which read the stack when called.
 */
export function useWebsearchStack(generalSettings: string[], started: (s: WebsearchStack) => void) {
  const live = {} as WebsearchStack;
  beforeAll(async () => {
    Object.assign(live, await startWebsearchStack(generalSettings));
    started(live);
  });
  afterAll(() => stopWebsearchStack(live));
  beforeEach(() => {
    live.model.reset();
    live.fake.reset();
  });
  return websearchClients(live);
}

export { SEARCH_KEYS };
