import { brave } from './brave.ts';
import type { SearchProviderId } from './schema.ts';
import { dataForSeo, googlePse, searchApi, serper } from './serp.ts';
import { firecrawl, linkup, parallelAi, searxng } from './web-apis.ts';
import { mapped, oneQuery, optionalText, providerFields, type SearchProvider, searchUrl, text, wholeCount } from './wire.ts';

/**
 * Each search provider's wire format, as LiteLLM translates its Search API (which is Perplexity's) to it:
 * where to send, how the credential goes, the request and the answer mapped both ways, and the price.
 */

const bearer = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });

/** Tavily's POST /search (docs.tavily.com): `include_domains`, a lower-case country, `content` as the snippet. */
const tavily: SearchProvider = {
  defaultBase: 'https://api.tavily.com',
  keyVars: ['TAVILY_API_KEY'],
  authHeaders: bearer,
  method: 'POST',
  url: searchUrl,
  body(request) {
    return {
      query: oneQuery(request.query),
      ...(request.max_results !== undefined ? { max_results: request.max_results } : {}),
      ...(request.search_domain_filter !== undefined ? { include_domains: request.search_domain_filter } : {}),
      ...(request.country !== undefined ? { country: request.country.toLowerCase() } : {}),
      ...providerFields(request),
    };
  },
  results: (answer) => mapped(answer, (r) => ({ title: text(r.title), url: text(r.url), snippet: text(r.content) })),
  // An advanced search costs Tavily two credits (LiteLLM's tavily/search-advanced); `auto_parameters` lets Tavily
  // choose an advanced one, so it is priced as one unless the client held the depth to basic.
  price: (sent) => (sent.search_depth === 'advanced' || (autoParameters(sent.auto_parameters) && sent.search_depth !== 'basic') ? 0.016 : 0.008),
};

/** Whether Tavily reads `auto_parameters` as on: `true`, or what its API coerces to it ("true", 1). */
function autoParameters(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === 'string' && ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase()));
}

/** Perplexity's POST /search: LiteLLM's Search API is its format, so the request goes as it came. */
const perplexity: SearchProvider = {
  defaultBase: 'https://api.perplexity.ai',
  keyVars: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'],
  authHeaders: bearer,
  method: 'POST',
  url: searchUrl,
  body(request) {
    const { query, max_results, search_domain_filter, max_tokens_per_page, country } = request;
    return Object.fromEntries(Object.entries({ query, max_results, search_domain_filter, max_tokens_per_page, country }).filter(([, v]) => v !== undefined));
  },
  results: (answer) => mapped(answer, (r) => ({
    title: text(r.title), url: text(r.url), snippet: text(r.snippet), date: optionalText(r.date), last_updated: optionalText(r.last_updated),
  })),
  price: () => 0.005,
};

/** Exa's POST /search (docs.exa.ai): camelCase fields, the page text asked for (Exa sends none unless asked). */
const exaAi: SearchProvider = {
  defaultBase: 'https://api.exa.ai',
  keyVars: ['EXA_API_KEY'],
  authHeaders: (apiKey) => ({ 'x-api-key': apiKey }),
  method: 'POST',
  url: searchUrl,
  body(request) {
    const own = providerFields(request);
    wholeCount(own.numResults, 'numResults');
    return {
      query: oneQuery(request.query),
      ...(request.max_results !== undefined ? { numResults: request.max_results } : {}),
      ...(request.search_domain_filter !== undefined ? { includeDomains: request.search_domain_filter } : {}),
      ...(request.country !== undefined ? { userLocation: request.country } : {}),
      ...own,
      contents: own.contents ?? { text: true },
    };
  },
  results: (answer) => mapped(answer, (r) => ({ title: text(r.title), url: text(r.url), snippet: text(r.text), date: optionalText(r.publishedDate) })),
  // Exa's tiers by results asked for (LiteLLM's exa_ai/search): up to 25, then up to 100; Exa's default is 10. The count
  // sent is priced (a client's own `numResults` wins over max_results; one that is not a whole number is refused).
  price: (sent) => (sent.numResults === undefined || Number(sent.numResults) <= 25 ? 0.005 : 0.025),
};

export const SEARCH_PROVIDER_WIRES: Record<SearchProviderId, SearchProvider> = {
  tavily, perplexity, exa_ai: exaAi, brave, parallel_ai: parallelAi, google_pse: googlePse, firecrawl, searxng, serper, linkup, searchapi: searchApi, dataforseo: dataForSeo,
};
