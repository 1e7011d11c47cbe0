import { z } from 'zod';

/**
 * A Search API request (LiteLLM's, which is Perplexity's `POST /search`): the query and the unified options,
 * checked here; a provider's own fields (Tavily's `topic`, Exa's `type`, ...) are kept and sent on as they are.
 */
export const searchRequestSchema = z.looseObject({
  /** The tool, when the path does not name it (`POST /v1/search`); the path's wins. */
  search_tool_name: z.string({ error: 'search_tool_name must be a string' }).min(1, 'search_tool_name must not be empty').optional(),
  query: z.union([
    z.string().trim().min(1, 'query must not be empty'),
    z.array(z.string().trim().min(1, 'query must not hold an empty query'), { error: 'query must be a string or a list of strings' })
      .min(1, 'query must not be empty').max(5, 'query takes at most 5 queries'),
  ], { error: 'query (a string or a list of strings) is required' }),
  max_results: z.number({ error: 'max_results must be a whole number' }).int('max_results must be a whole number').min(1, 'max_results must be at least 1').max(100, 'max_results must be at most 100').optional(),
  search_domain_filter: z.array(z.string().min(1), { error: 'search_domain_filter must be a list of domains' }).max(300, 'search_domain_filter takes at most 300 domains').optional(),
  country: z.string({ error: 'country must be a string (a country code such as US)' }).min(1).max(64).optional(),
  max_tokens_per_page: z.number({ error: 'max_tokens_per_page must be a whole number' }).int('max_tokens_per_page must be a whole number').min(1, 'max_tokens_per_page must be at least 1').optional(),
});

export type SearchRequest = z.output<typeof searchRequestSchema>;
