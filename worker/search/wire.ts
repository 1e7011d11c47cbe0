import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import type { SearchRequest } from './request.ts';

/** What every search provider's wire (providers.ts, brave.ts) is made of. */

/** One result of LiteLLM's SearchResponse. */
export interface SearchResult {
  title: string;
  url: string;
  snippet: string;
  date?: string;
  last_updated?: string;
}

export interface SearchProvider {
  /** The provider's API origin when the tool names no api_base. */
  defaultBase: string;
  /** The variables the provider's key is read from when the tool names no api_key (LiteLLM's names). */
  keyVars: readonly string[];
  authHeaders(apiKey: string): Record<string, string>;
  /** GET sends the request's fields as the URL's query (Brave's); POST (the others) as a JSON body. */
  method: 'GET' | 'POST';
  /** The URL of a search, from the tool's api_base (or `defaultBase`). */
  url(base: string): string;
  /** The provider's request (body or query) for the client's search. */
  body(request: SearchRequest): Record<string, unknown>;
  /** The results of the provider's answer to what was sent (a malformed result is skipped). */
  results(answer: unknown, sent: Record<string, unknown>): SearchResult[];
  /**
   * What one search costs at the provider's list price (LiteLLM's price map, `<provider>/search`), from what `body`
   * sends: a provider's own fields go as the client wrote them, so they, not the unified ones, set the price.
   */
  price(sent: Record<string, unknown>): number;
  /** Query parameters that carry the credential (Google PSE's `key` and `cx`, SearchAPI's `api_key`), added only when sending. */
  authQuery?(apiKey: string, engineId: string | undefined): Record<string, string>;
  /** The JSON a POST sends, when not `body`'s object itself (DataForSEO's list of one task). */
  wireBody?(fields: Record<string, unknown>): unknown;
  /** The credential is optional (a SearXNG instance without auth): none sends no auth header. */
  keyOptional?: true;
  /** The credential from the provider's other variables (DataForSEO's login and password) when none is configured. */
  keyFrom?(vars: Record<string, unknown>): string | undefined;
  /** The credential is a `login:password` pair (DataForSEO's): a configured one without ':' is passed over for `keyFrom`. */
  pairKey?: true;
  /** The variables `keyFrom` reads, named when no credential is found. */
  keyFromVars?: readonly string[];
  /** The search engine id's variables (Google PSE's `cx`), read when the tool names no `search_engine_id`. */
  engineIdVars?: readonly string[];
  /** The variable read for the base URL when the tool names no api_base (LiteLLM's `<PROVIDER>_API_BASE`), before `defaultBase`. */
  baseVar?: string;
  /** A failure the provider reports inside a successful HTTP answer (DataForSEO's status codes): the client's status and its words. */
  answerError?(answer: unknown): { status: number; code: string; message: string } | undefined;
}

/** The Search API's own fields: every other field of a request is the provider's and is sent as it is. */
const UNIFIED = new Set(['search_tool_name', 'query', 'max_results', 'search_domain_filter', 'country', 'max_tokens_per_page']);
/** Never sent on: LiteLLM's routing and logging fields, and credentials or endpoints (which are the operator's). */
const KEPT_BACK = new Set(['model', 'metadata', 'litellm_metadata', 'tags', 'user', 'custom_llm_provider', 'api_key', 'api_base', 'base_url']);

/** The provider's own fields of a request (Tavily's `topic`, Exa's `type`, ...), passed through as LiteLLM does. */
export function providerFields(request: SearchRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([name, value]) => !UNIFIED.has(name) && !KEPT_BACK.has(name) && value !== undefined));
}

/**
 * A provider's own count field the price is read from (Exa's `numResults`, Firecrawl's `limit`, Serper's `num`,
 * Parallel's `advanced_settings.max_results`, DataForSEO's `depth`), checked before it is priced: one that is not a
 * whole number ("100", 2.5) is a 400 naming the field, since the provider may read it as a count the price did not.
 */
export function wholeCount(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new GatewayError(`${field} must be a whole number (the search is priced by it)`, { status: 400, type: 'invalid_request_error', param: field });
}

/** Tavily and Exa take one query: a list is joined, as LiteLLM joins it. */
export const oneQuery = (query: string | string[]) => (Array.isArray(query) ? query.join(' ') : query);

export const text = (v: unknown): string => (typeof v === 'string' ? v : '');
export const optionalText = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function mapped(answer: unknown, map: (r: Record<string, unknown>) => SearchResult): SearchResult[] {
  const list = isObject(answer) && Array.isArray(answer.results) ? answer.results : [];
  return list.filter(isObject).map(map).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as SearchResult);
}

/** The provider's search URL: its base with `/search` appended unless the base already ends so (as LiteLLM builds it). */
export function searchUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith('/search') ? trimmed : `${trimmed}/search`;
}

/** Base64 of UTF-8 text (an HTTP Basic credential). */
export const base64 = (value: string) => btoa(String.fromCharCode(...new TextEncoder().encode(value)));

/** The most of one result's snippet passed on (Firecrawl's is a scraped page's whole markdown). */
export const MAX_SNIPPET_CHARS = 20_000;

/** The results with each snippet cut to MAX_SNIPPET_CHARS, so one scraped page cannot make the answer huge. */
export function cappedResults(results: SearchResult[]): SearchResult[] {
  return results.map((r) => (r.snippet.length > MAX_SNIPPET_CHARS ? { ...r, snippet: r.snippet.slice(0, MAX_SNIPPET_CHARS) } : r));
}
