import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import { dataForSeoLocation } from './countries.ts';
import { base64, mapped, oneQuery, optionalText, providerFields, type SearchProvider, type SearchResult, searchUrl, text, wholeCount } from './wire.ts';

/**
 * The Google results APIs, as LiteLLM translates its Search API to each: Google's Programmable Search Engine,
 * Serper, SearchAPI.io and DataForSEO. Each answer's organic results are the SearchResponse's.
 */

/** `(q) AND (site:a OR site:b)`: a domain filter written into a Google query. */
const withSites = (q: string, domains: string[] | undefined, joiner: string) =>
  domains?.length ? `(${q})${joiner}(${domains.map((d) => `site:${d}`).join(' OR ')})` : q;

/** An organic-results list (`organic`, `organic_results`) mapped from Google's `link`, `snippet` and `date`. */
function organic(answer: unknown, list: string): SearchResult[] {
  const items = isObject(answer) ? answer[list] : undefined;
  return mapped({ results: items }, (r) => ({ title: text(r.title), url: text(r.link), snippet: text(r.snippet), date: optionalText(r.date) }));
}

/**
 * Google PSE's `GET /customsearch/v1` (developers.google.com/custom-search): `q`, `num` of at most 10, the first
 * domain as `siteSearch` (Google takes one), an upper-case `gl`; the key and the engine id (`cx`) go in the query.
 */
export const googlePse: SearchProvider = {
  defaultBase: 'https://www.googleapis.com/customsearch/v1',
  baseVar: 'GOOGLE_PSE_API_BASE',
  keyVars: ['GOOGLE_PSE_API_KEY'],
  engineIdVars: ['GOOGLE_PSE_ENGINE_ID'],
  authHeaders: () => ({}),
  authQuery: (apiKey, engineId) => ({ cx: engineId ?? '', key: apiKey }),
  method: 'GET',
  // Its base is the search endpoint itself (LiteLLM appends nothing).
  url: (base) => base,
  body(request) {
    const domain = request.search_domain_filter?.[0];
    return {
      q: oneQuery(request.query),
      ...(request.max_results !== undefined ? { num: Math.min(request.max_results, 10) } : {}),
      ...(domain ? { siteSearch: domain, siteSearchFilter: 'i' } : {}),
      ...(request.country !== undefined ? { gl: request.country.toUpperCase() } : {}),
      ...providerFields(request),
    };
  },
  results: (answer) => mapped({ results: isObject(answer) ? answer.items : undefined }, (r) => ({ title: text(r.title), url: text(r.link), snippet: text(r.snippet) })),
  // LiteLLM's google_pse/search: Google's $5 per 1,000 queries.
  price: () => 0.005,
};

/** Serper's price of a search of up to 10 results (LiteLLM's serper/search, its starter $1 per 1,000), and of more (2 credits). */
const SERPER_SEARCH = 0.001;
const SERPER_MORE = 0.002;

/** Serper's `POST https://google.serper.dev/search` (`X-API-KEY`): `q` with the domains as site: clauses, `num`, a lower-case `gl`. */
export const serper: SearchProvider = {
  defaultBase: 'https://google.serper.dev',
  baseVar: 'SERPER_API_BASE',
  keyVars: ['SERPER_API_KEY'],
  authHeaders: (apiKey) => ({ 'x-api-key': apiKey }),
  method: 'POST',
  url: searchUrl,
  body(request) {
    wholeCount(providerFields(request).num, 'num');
    return {
      q: withSites(oneQuery(request.query), request.search_domain_filter, ' '),
      ...(request.max_results !== undefined ? { num: request.max_results } : {}),
      ...(request.country !== undefined ? { gl: request.country.toLowerCase() } : {}),
      ...providerFields(request),
    };
  },
  results: (answer) => organic(answer, 'organic'),
  // Serper bills a search of more than 10 results (the `num` sent) as 2 credits, the gateway's estimate of its charge.
  price: (sent) => (typeof sent.num === 'number' && sent.num > 10 ? SERPER_MORE : SERPER_SEARCH),
};

/** SearchAPI.io's `GET /api/v1/search` (`engine=google`, the key as `api_key` in the query), `num` of at most 10. */
export const searchApi: SearchProvider = {
  defaultBase: 'https://www.searchapi.io/api/v1/search',
  baseVar: 'SEARCHAPI_API_BASE',
  keyVars: ['SEARCHAPI_API_KEY'],
  authHeaders: () => ({}),
  authQuery: (apiKey) => ({ api_key: apiKey }),
  method: 'GET',
  url: (base) => base,
  body(request) {
    return {
      engine: 'google',
      q: withSites(oneQuery(request.query), request.search_domain_filter, ' AND '),
      ...(request.max_results !== undefined ? { num: Math.min(request.max_results, 10) } : {}),
      ...(request.country !== undefined ? { gl: request.country.toLowerCase() } : {}),
      ...providerFields(request),
    };
  },
  results: (answer) => organic(answer, 'organic_results'),
  // LiteLLM's price map has no SearchAPI price: a search costs its tool's input_cost_per_query, else nothing.
  price: () => 0,
};

/** DataForSEO answers a request, and each task, with this status when it succeeded. */
const TASK_OK = 20000;
/** A task that found nothing ("No Search Results."): billed, and answered as an empty list (as LiteLLM does). */
const NO_RESULTS = 40102;
/** DataForSEO's rate limits (per minute, and of simultaneous requests): the client's 429. */
const RATE_LIMITED = new Set([40202, 40209]);
/** DataForSEO bills a keyword with a search operator (site:, inurl:, allintitle:, ...) at 5 times the price. */
const OPERATOR_FACTOR = 5;
const OPERATOR = /(?:^|[\s("'+|-])(?:site|inurl|intitle|intext|inanchor|allinurl|allintitle|allintext|allinanchor|filetype|ext|link|related|cache|info|source|define|location|loc|before|after|inpostauthor|inposttitle)\s*:/i;
/** LiteLLM's dataforseo/search, as the price of each page of 10 results asked for (DataForSEO bills by the page). */
const DATAFORSEO_PAGE = 0.003;
/** DataForSEO's most results (`depth`) and pages (`max_crawl_pages`) a task may ask for. */
const MAX_DEPTH = 700;
const MAX_PAGES = 100;
/** Options DataForSEO bills on top of the pages, which the gateway does not price: a search setting one is refused. */
const UNPRICED = ['load_async_ai_overview', 'people_also_ask_click_depth'];

const wholeNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);
/** An option set to something other than off (false, 0, null, absent). */
const isSet = (v: unknown) => v !== undefined && v !== null && v !== false && v !== 0 && v !== 'false' && v !== '0';

/**
 * The pages of 10 results a DataForSEO task is billed for: `max_crawl_pages` when set (bounded by `depth`
 * when both are), else `depth` (10 unless set) in pages; 0 at the most (a value not a whole number is refused by `body`).
 */
function dataForSeoPages(sent: Record<string, unknown>): number {
  const depth = sent.depth === undefined ? undefined : Math.ceil(Math.min(wholeNumber(sent.depth) ?? MAX_DEPTH, MAX_DEPTH) / 10);
  const crawl = sent.max_crawl_pages === undefined ? undefined : Math.min(wholeNumber(sent.max_crawl_pages) ?? MAX_PAGES, MAX_PAGES);
  return depth !== undefined && crawl !== undefined ? Math.min(depth, crawl) : depth ?? crawl ?? 1;
}

/**
 * DataForSEO's status code as the client's: its credential refused (40100) a 401, a rate limit (40202, 40209) a
 * 429, the operator's account or balance (402xx: payment, suspended, cost limit) and the search engine's own error
 * (40101) or a 5xxxx a 502, any other 4xxxx a 400.
 */
function dataForSeoStatus(code: number): number {
  if (code === 40100) return 401;
  if (RATE_LIMITED.has(code)) return 429;
  if (code === 40101 || (code >= 40200 && code < 40300)) return 502;
  if (code >= 40000 && code < 50000) return 400;
  return 502;
}

/**
 * DataForSEO's Google organic SERP (`POST /v3/serp/google/organic/live/advanced`, HTTP Basic with the login and
 * password): a list of one task, `keyword` (the first query of a list), `depth` of at most 700, the domains as
 * site: clauses, English unless the request names a language; a two-letter `country` as its `location_code`
 * (2840 for US), any other as `location_name` ("United States"), the US unless the request names a location.
 */
export const dataForSeo: SearchProvider = {
  defaultBase: 'https://api.dataforseo.com/v3/serp/google/organic/live/advanced',
  baseVar: 'DATAFORSEO_API_BASE',
  keyVars: [],
  pairKey: true,
  keyFromVars: ['DATAFORSEO_LOGIN', 'DATAFORSEO_PASSWORD'],
  keyFrom(vars) {
    const { DATAFORSEO_LOGIN: login, DATAFORSEO_PASSWORD: password } = vars;
    return typeof login === 'string' && login && typeof password === 'string' && password ? `${login}:${password}` : undefined;
  },
  authHeaders: (apiKey) => ({ authorization: `Basic ${base64(apiKey)}` }),
  method: 'POST',
  url: (base) => base,
  body(request) {
    const own = providerFields(request);
    const unpriced = UNPRICED.find((name) => isSet(own[name]));
    if (unpriced) {
      throw new GatewayError(`${unpriced} is billed by DataForSEO on top of the search, which the gateway does not price: leave it out`, {
        status: 400, type: 'invalid_request_error', param: unpriced,
      });
    }
    wholeCount(own.depth, 'depth');
    wholeCount(own.max_crawl_pages, 'max_crawl_pages');
    const code = request.country !== undefined ? dataForSeoLocation(request.country) : undefined;
    const country = request.country === undefined ? {} : code !== undefined ? { location_code: code } : { location_name: request.country };
    const location = request.country ?? own.location_name ?? own.location_code ?? own.location_coordinate;
    return {
      // DataForSEO's `domain` names a Google domain (google.co.uk), not a filter: the domains go in as site: clauses.
      keyword: withSites(Array.isArray(request.query) ? request.query[0]! : request.query, request.search_domain_filter, ' '),
      ...(request.max_results !== undefined ? { depth: Math.min(request.max_results, MAX_DEPTH) } : {}),
      ...country,
      ...(own.language_code === undefined && own.language_name === undefined ? { language_code: 'en' } : {}),
      ...(location === undefined ? { location_code: 2840 } : {}),
      ...own,
    };
  },
  wireBody: (fields) => [fields],
  answerError(answer) {
    if (!isObject(answer)) return undefined;
    const task = Array.isArray(answer.tasks) ? answer.tasks[0] : undefined;
    const failed = answer.status_code !== TASK_OK ? answer : isObject(task) && task.status_code !== TASK_OK && task.status_code !== NO_RESULTS ? task : undefined;
    if (!failed) return undefined;
    const code = typeof failed.status_code === 'number' ? failed.status_code : 0;
    return { status: dataForSeoStatus(code), code: String(failed.status_code ?? 'missing'), message: text(failed.status_message) };
  },
  results(answer) {
    const task = isObject(answer) && Array.isArray(answer.tasks) ? answer.tasks[0] : undefined;
    if (!isObject(task) || task.status_code !== TASK_OK || !Array.isArray(task.result)) return [];
    const first = task.result[0];
    const items = isObject(first) && Array.isArray(first.items) ? first.items.filter((i) => isObject(i) && i.type === 'organic') : [];
    return mapped({ results: items }, (r) => ({ title: text(r.title), url: text(r.url), snippet: text(r.description) }));
  },
  // Each page of 10 results asked for, and `calculate_rectangles` one page more (as DataForSEO bills it one base price);
  // all of it 5 times over when the keyword sent holds a search operator (the domain filter's site: clauses, or the client's own).
  price(sent) {
    const pages = dataForSeoPages(sent) + (isSet(sent.calculate_rectangles) ? 1 : 0);
    const factor = typeof sent.keyword === 'string' && OPERATOR.test(sent.keyword) ? OPERATOR_FACTOR : 1;
    return Math.round(pages * factor * DATAFORSEO_PAGE * 1e9) / 1e9;
  },
};
