import { z } from 'zod';
import { nonNegative, str } from '../config/fields.ts';

/**
 * config.yaml's top-level `search_tools` (LiteLLM's Search API): named web search integrations that
 * `POST /v1/search/{search_tool_name}` calls with the provider's own credential.
 */

/** The search providers the gateway translates to (search/providers.ts); LiteLLM names more, which are refused by name. */
export const SEARCH_PROVIDERS = [
  'tavily', 'perplexity', 'exa_ai', 'brave', 'parallel_ai', 'google_pse', 'firecrawl', 'searxng', 'serper', 'linkup', 'searchapi', 'dataforseo',
] as const;
export type SearchProviderId = (typeof SEARCH_PROVIDERS)[number];

/** Names a key's `object_permission.search_tools` may list, and the path segment of `/v1/search/{name}`. */
const TOOL_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

export const searchToolSchema = z.object({
  search_tool_name: str.regex(TOOL_NAME, 'a search tool name is 1-128 letters, digits, _, ., : or -'),
  litellm_params: z.object({
    search_provider: z.enum(SEARCH_PROVIDERS, {
      error: (issue) => issue.input === undefined ? 'is required' : `search_provider ${JSON.stringify(String(issue.input))} is not supported: expected one of ${SEARCH_PROVIDERS.join(', ')}`,
    }),
    /** The provider's key; without it, the provider's usual variable (TAVILY_API_KEY, PERPLEXITYAI_API_KEY, EXA_API_KEY, BRAVE_API_KEY, ...). */
    api_key: str.optional(),
    /** Google PSE's search engine id (`cx`); without it, GOOGLE_PSE_ENGINE_ID. */
    search_engine_id: str.optional(),
    /**
     * The provider's base URL (`/search` is appended unless it ends so; Brave's is its search endpoint itself); without
     * it, the provider's `<PROVIDER>_API_BASE` variable (SEARXNG_API_BASE, ...), else its public API. SearXNG has none.
     */
    api_base: str.url('expected an http(s) URL').refine((u) => /^https?:\/\//i.test(u), 'expected an http(s) URL').optional(),
    /** Seconds a search may take (litellm_settings.request_timeout unless set). */
    timeout: nonNegative.refine((v) => v > 0, 'must be more than 0').optional(),
    /** Accepted as LiteLLM's; a failed search is not retried. */
    max_retries: nonNegative.optional(),
    /** What one search costs, in place of the provider's price (LiteLLM's price map `<provider>/search`). */
    input_cost_per_query: nonNegative.optional(),
  }, { error: 'expected a mapping with search_provider' }),
  search_tool_info: z.looseObject({ description: str.optional() }).optional(),
});

export type SearchTool = z.output<typeof searchToolSchema>;

export const searchToolsSchema = z.array(searchToolSchema, { error: 'expected a list of {search_tool_name, litellm_params}' }).superRefine((tools, ctx) => {
  const seen = new Set<string>();
  tools.forEach((tool, i) => {
    if (seen.has(tool.search_tool_name)) ctx.addIssue({ code: 'custom', path: [i, 'search_tool_name'], message: `${tool.search_tool_name} is named twice: search tool names must be unique` });
    seen.add(tool.search_tool_name);
  });
});
