// The Search API suites' stack (test/search-api-*.test.ts): LiteLLM's Search API (`/v1/search/{search_tool_name}`,
// `/search`, ...) over config.yaml's `search_tools`: fake Tavily, Perplexity, Exa and Brave on loopback, and the
// gateway with one search tool of each (plus one whose key the provider refuses and one without a credential);
// with `more`, also fake Parallel, Google PSE, Firecrawl, SearXNG, Serper, Linkup, SearchAPI and DataForSEO and
// their tools (test/search-providers-*.test.ts); helpers to call the gateway and read a key's spend.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { type FakeMoreSearch, GOOGLE_ENGINE_ID, MORE_SEARCH_KEYS, startFakeMoreSearch } from '../fakes/search-providers-more.ts';
import { type FakeSearch, SEARCH_KEYS, startFakeSearch } from '../fakes/search-providers.ts';
import { sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export let fake: FakeSearch;
/** The further providers' fakes (Parallel, Google PSE, ...), started only by `useSearchStack({ more: true })`. */
export let moreFake: FakeMoreSearch;
export let stack: TestStack;
export const WRONG_KEY = 'tvly-wrong-key-9999';

/**
 * One tool of each further provider (test/search-providers-*.test.ts): Parallel's key from PARALLEL_API_KEY,
 * Google PSE's engine id from GOOGLE_PSE_ENGINE_ID, DataForSEO's login and password from their variables, a
 * SearXNG instance with a key and one without, Google PSE and SearchAPI tools whose key is refused, a Serper
 * tool without a credential, SearXNG and Firecrawl tools whose base is SEARXNG_API_BASE and FIRECRAWL_API_BASE,
 * and a DataForSEO tool whose api_key is no login:password pair (its variables' pair is sent).
 */
const moreTools = (url: string) => `
  - search_tool_name: parallel
    litellm_params: {search_provider: parallel_ai, api_base: "${url}/parallel"}
  - search_tool_name: google
    litellm_params: {search_provider: google_pse, api_key: ${MORE_SEARCH_KEYS.google}, api_base: "${url}/google/customsearch/v1"}
  - search_tool_name: google-stale
    litellm_params: {search_provider: google_pse, api_key: AIzaRevokedKey0999, search_engine_id: ${GOOGLE_ENGINE_ID}, api_base: "${url}/google/customsearch/v1"}
  - search_tool_name: firecrawl
    litellm_params: {search_provider: firecrawl, api_key: ${MORE_SEARCH_KEYS.firecrawl}, api_base: "${url}/firecrawl/v2"}
  - search_tool_name: searx
    litellm_params: {search_provider: searxng, api_key: ${MORE_SEARCH_KEYS.searxng}, api_base: "${url}/searxng/"}
  - search_tool_name: searx-open
    litellm_params: {search_provider: searxng, api_base: "${url}/searxng"}
  - search_tool_name: serper
    litellm_params: {search_provider: serper, api_key: ${MORE_SEARCH_KEYS.serper}, api_base: "${url}/serper"}
  - search_tool_name: linkup
    litellm_params: {search_provider: linkup, api_key: ${MORE_SEARCH_KEYS.linkup}, api_base: "${url}/linkup/v1"}
  - search_tool_name: searchapi
    litellm_params: {search_provider: searchapi, api_key: ${MORE_SEARCH_KEYS.searchapi}, api_base: "${url}/searchapi/api/v1/search", input_cost_per_query: 0.004}
  - search_tool_name: searchapi-stale
    litellm_params: {search_provider: searchapi, api_key: sapi-revoked-key-0999, api_base: "${url}/searchapi/api/v1/search"}
  - search_tool_name: dataforseo
    litellm_params: {search_provider: dataforseo, api_base: "${url}/dataforseo/v3/serp/google/organic/live/advanced"}
  - search_tool_name: serper-no-key
    litellm_params: {search_provider: serper, api_base: "${url}/serper"}
  - search_tool_name: searx-env
    litellm_params: {search_provider: searxng, api_key: ${MORE_SEARCH_KEYS.searxng}}
  - search_tool_name: firecrawl-env
    litellm_params: {search_provider: firecrawl, api_key: ${MORE_SEARCH_KEYS.firecrawl}}
  - search_tool_name: dataforseo-bare
    litellm_params: {search_provider: dataforseo, api_key: dfs-bare-token-0999, api_base: "${url}/dataforseo/v3/serp/google/organic/live/advanced"}`;

/** Starts the suite's stack (registered as the calling test file's beforeAll/afterAll/beforeEach); `more` adds moreTools. */
export function useSearchStack(options: { more?: boolean } = {}): void {
beforeAll(async () => {
  fake = await startFakeSearch();
  if (options.more) moreFake = await startFakeMoreSearch();
  const [login, password] = [MORE_SEARCH_KEYS.dataforseo.slice(0, MORE_SEARCH_KEYS.dataforseo.indexOf(':')), MORE_SEARCH_KEYS.dataforseo.slice(MORE_SEARCH_KEYS.dataforseo.indexOf(':') + 1)];
  stack = await startTestStack({
    env: {
      TAVILY_TEST_KEY: SEARCH_KEYS.tavily,
      ...(options.more ? {
        PARALLEL_API_KEY: MORE_SEARCH_KEYS.parallel, GOOGLE_PSE_ENGINE_ID: GOOGLE_ENGINE_ID, DATAFORSEO_LOGIN: login!, DATAFORSEO_PASSWORD: password!,
        SEARXNG_API_BASE: `${moreFake.url}/searxng`, FIRECRAWL_API_BASE: `${moreFake.url}/firecrawl/v2`,
      } : {}),
    },
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
    litellm_params: {search_provider: exa_ai, api_base: "${fake.url}/exa"}${options.more ? moreTools(moreFake.url) : ''}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  if (options.more) await moreFake?.close();
});
beforeEach(() => {
  fake.reset();
  if (options.more) moreFake.reset();
});
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
