import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import { mapped, oneQuery, optionalText, providerFields, type SearchProvider, type SearchResult, searchUrl, text, wholeCount } from './wire.ts';

/**
 * Parallel AI, Firecrawl, Linkup and SearXNG, as LiteLLM translates its Search API to each: the provider's own
 * request (its own fields passed through) and its answer as the SearchResponse's results.
 */

const bearer = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/** Parallel's default results a search, and what each one past them costs (LiteLLM's parallel_ai cost calculator). */
const PARALLEL_DEFAULT_RESULTS = 10;
const PARALLEL_EXTRA_RESULT = 0.001;
/** LiteLLM's parallel_ai/search, its price for every mode (its map has no entry for another). */
const PARALLEL_SEARCH = 0.004;

/**
 * Parallel's `POST /v1/search` (`x-api-key`): `search_queries` (and a single query as the `objective` too), `mode`
 * (`basic` unless set; v1beta's `processor` base/pro as basic/advanced), and `advanced_settings` from the unified
 * fields and Parallel's own (`max_results`, `location`, `source_policy` of included/excluded domains and
 * `after_date`, `excerpt_settings`, `fetch_policy`); excerpts joined are the snippet.
 */
export const parallelAi: SearchProvider = {
  defaultBase: 'https://api.parallel.ai',
  baseVar: 'PARALLEL_AI_API_BASE',
  keyVars: ['PARALLEL_AI_API_KEY', 'PARALLEL_API_KEY'],
  authHeaders: (apiKey) => ({ 'x-api-key': apiKey }),
  method: 'POST',
  url(base) {
    const trimmed = base.replace(/\/+$/, '');
    return trimmed.endsWith('/v1/search') ? trimmed : `${trimmed.replace(/\/v1$/, '')}/v1/search`;
  },
  body(request) {
    const {
      mode, processor, location, max_chars_per_result: maxChars, fetch_policy: fetchPolicy, include_domains: include, exclude_domains: exclude,
      after_date: afterDate, advanced_settings: ownSettings, _parallel_ai_usage: _usage, ...own
    } = providerFields(request);
    if (isObject(ownSettings)) wholeCount(ownSettings.max_results, 'advanced_settings.max_results');
    const source = {
      ...(request.search_domain_filter !== undefined ? { include_domains: request.search_domain_filter } : {}),
      ...(include !== undefined ? { include_domains: include } : {}),
      ...(exclude !== undefined ? { exclude_domains: exclude } : {}),
      ...(afterDate !== undefined ? { after_date: afterDate } : {}),
    };
    const settings = {
      ...(request.max_results !== undefined ? { max_results: request.max_results } : {}),
      ...(request.country !== undefined ? { location: request.country } : {}),
      ...(location !== undefined ? { location } : {}),
      ...(maxChars !== undefined ? { excerpt_settings: { max_chars_per_result: maxChars } } : {}),
      ...(fetchPolicy !== undefined ? { fetch_policy: fetchPolicy } : {}),
      ...(Object.keys(source).length ? { source_policy: source } : {}),
      ...(isObject(ownSettings) ? ownSettings : {}),
    };
    const legacy = processor === 'base' ? 'basic' : processor === 'pro' ? 'advanced' : processor;
    return {
      search_queries: Array.isArray(request.query) ? request.query : [request.query],
      ...(Array.isArray(request.query) ? {} : { objective: request.query }),
      // Parallel's v1 defaults to `advanced`; LiteLLM sends `basic`, the tier its price is.
      mode: mode ?? legacy ?? 'basic',
      ...(Object.keys(settings).length ? { advanced_settings: settings } : {}),
      ...own,
    };
  },
  results: (answer) => mapped(answer, (r) => ({
    title: text(r.title), url: text(r.url), snippet: Array.isArray(r.excerpts) ? r.excerpts.filter((e) => typeof e === 'string').join(' ... ') : '',
    date: optionalText(r.publish_date),
  })),
  // A search, and each result past Parallel's default 10 at $0.001 (the count sent).
  price(sent) {
    const settings = isObject(sent.advanced_settings) ? sent.advanced_settings : {};
    const results = count(settings.max_results) ?? PARALLEL_DEFAULT_RESULTS;
    return Math.round((PARALLEL_SEARCH + Math.max(results - PARALLEL_DEFAULT_RESULTS, 0) * PARALLEL_EXTRA_RESULT) * 1e9) / 1e9;
  },
};

/** Firecrawl's credit, at LiteLLM's firecrawl/search price (2 credits, $0.00166, for every 10 results asked for). */
const FIRECRAWL_CREDIT = 0.00083;
/** Firecrawl's most results a search. */
const FIRECRAWL_MAX_LIMIT = 100;
/** A scraped page's credits: 1, +4 for a `json` format (LLM extraction), +4 for the enhanced proxy, +1 for zero data retention. */
const SCRAPE_PAGE = 1;
const SCRAPE_JSON = 4;
const SCRAPE_ENHANCED = 4;
const SCRAPE_ZDR = 1;
const SCRAPE_TOP = SCRAPE_PAGE + SCRAPE_JSON + SCRAPE_ENHANCED + SCRAPE_ZDR;
/** A zero-data-retention search's credits for every 10 results asked for (2 otherwise). */
const ZDR_SEARCH_CREDITS = 10;
const SEARCH_CREDITS = 2;
/**
 * The PDF pages parsed of each scraped result (Firecrawl bills 1 credit a page) when the client names no `parsers`:
 * the gateway sends `parsers: [{type: "pdf", maxPages}]` so that a long PDF cannot cost more than it priced.
 */
export const FIRECRAWL_PDF_PAGES = 1;

/** An option set to anything but off (false, null, absent): zero data retention asked for. */
const on = (v: unknown) => v !== undefined && v !== null && v !== false;

/** A 400 for `scrapeOptions.parsers` the gateway cannot price. */
const unpricedParsers = (why: string) => new GatewayError(`scrapeOptions.parsers ${why}`, { status: 400, type: 'invalid_request_error', param: 'scrapeOptions.parsers' });

/**
 * The PDF pages each scraped result may be billed for under the `parsers` sent: none for `[]` (a PDF comes back
 * whole as base64, at the page's credit), else the `maxPages` of its pdf parser. A pdf parser without a whole
 * `maxPages` ("pdf" alone parses every page) or a parser Firecrawl does not document is refused, being unpriceable.
 */
export function pdfPages(parsers: unknown): number {
  if (!Array.isArray(parsers)) throw unpricedParsers('must be a list');
  let pages = 0;
  for (const parser of parsers) {
    if (parser === 'pdf' || (isObject(parser) && parser.type === 'pdf' && parser.maxPages === undefined)) {
      throw unpricedParsers('names a pdf parser without maxPages, which Firecrawl bills by every page of each PDF: set maxPages (e.g. [{"type": "pdf", "maxPages": 5}])');
    }
    if (!isObject(parser) || parser.type !== 'pdf') throw unpricedParsers('names a parser the gateway does not price: only {"type": "pdf", "maxPages": N} is taken');
    const max = parser.maxPages;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw unpricedParsers('maxPages must be a whole number of at least 1');
    pages = Math.max(pages, max);
  }
  return pages;
}
/** The formats Firecrawl scrapes at the base credit (as their names, or `{type}` objects). */
const PLAIN_FORMATS = new Set(['markdown', 'html', 'rawHtml', 'links', 'images', 'screenshot', 'summary', 'changeTracking', 'branding']);

/**
 * The credits each scraped result costs for the `scrapeOptions` sent: none without them; the base credit and
 * what its formats, proxy and retention add; a shape not known (an unknown format or option value) at the top rate.
 */
function scrapeCredits(options: unknown, zeroDataRetention: unknown): number {
  if (options === undefined || options === null) return 0;
  if (!isObject(options)) return SCRAPE_TOP;
  const formats = options.formats ?? ['markdown'];
  if (!Array.isArray(formats)) return SCRAPE_TOP;
  let credits = SCRAPE_PAGE;
  let json = false;
  for (const format of formats) {
    const type = typeof format === 'string' ? format : isObject(format) && typeof format.type === 'string' ? format.type : undefined;
    if (type === 'json') json = true;
    else if (type === undefined || !PLAIN_FORMATS.has(type)) return SCRAPE_TOP;
  }
  if (json) credits += SCRAPE_JSON;
  const proxy = options.proxy;
  // `auto` retries a failed page through the enhanced proxy (billed as such): priced as it.
  if (proxy === 'enhanced' || proxy === 'stealth' || proxy === 'auto') credits += SCRAPE_ENHANCED;
  else if (proxy !== undefined && proxy !== 'basic') return SCRAPE_TOP;
  if (on(zeroDataRetention) || on(options.zeroDataRetention)) credits += SCRAPE_ZDR;
  return credits;
}

/**
 * Firecrawl's `POST /v2/search` (Bearer): `query` (a list joined), `limit`, `country`, and page content asked for as
 * main-content markdown unless the request sets `scrapeOptions` (as LiteLLM asks; each scraped result is billed, so
 * priced), with PDF parsing held to FIRECRAWL_PDF_PAGES pages unless the client names its own `parsers`; the web
 * results, then the news ones (with dates).
 */
export const firecrawl: SearchProvider = {
  defaultBase: 'https://api.firecrawl.dev/v2',
  baseVar: 'FIRECRAWL_API_BASE',
  keyVars: ['FIRECRAWL_API_KEY'],
  authHeaders: bearer,
  method: 'POST',
  url: searchUrl,
  body(request) {
    const own = providerFields(request);
    wholeCount(own.limit, 'limit');
    const asked = own.scrapeOptions ?? { formats: ['markdown'], onlyMainContent: true };
    const scrapeOptions = isObject(asked) && asked.parsers === undefined ? { ...asked, parsers: [{ type: 'pdf', maxPages: FIRECRAWL_PDF_PAGES }] } : asked;
    if (isObject(scrapeOptions)) pdfPages(scrapeOptions.parsers);
    return {
      query: oneQuery(request.query),
      ...(request.max_results !== undefined ? { limit: request.max_results } : {}),
      ...(request.country !== undefined ? { country: request.country } : {}),
      ...own,
      scrapeOptions,
    };
  },
  results(answer) {
    const data = isObject(answer) && isObject(answer.data) ? answer.data : {};
    const web = mapped({ results: data.web }, (r) => ({ title: text(r.title), url: text(r.url), snippet: text(r.markdown) || text(r.description) }));
    const news = mapped({ results: data.news }, (r) => ({ title: text(r.title), url: text(r.url), snippet: text(r.markdown) || text(r.snippet), date: optionalText(r.date) }));
    return [...web, ...news];
  },
  // By the results asked for (10 when none is named, as LiteLLM prices it): 2 credits for 1-10, 4 for 11-20, ... 20
  // for 91-100 (a count above 100 at 100; 10 credits for each 10 under zero data retention), and each of them scraped
  // at its page credits and its PDF pages (the gateway's estimate: whether a result is a PDF is not known before).
  price(sent) {
    const asked = sent.limit === undefined ? 10 : Number(sent.limit);
    const limit = Number.isFinite(asked) && asked >= 1 ? Math.min(Math.ceil(asked), FIRECRAWL_MAX_LIMIT) : FIRECRAWL_MAX_LIMIT;
    const options = sent.scrapeOptions;
    const zdr = on(sent.zeroDataRetention) || (isObject(options) && on(options.zeroDataRetention));
    const page = scrapeCredits(options, sent.zeroDataRetention);
    const pdf = page > 0 && isObject(options) ? pdfPages(options.parsers) : 0;
    const credits = (zdr ? ZDR_SEARCH_CREDITS : SEARCH_CREDITS) * Math.ceil(limit / 10) + limit * (page + pdf);
    return Math.round(credits * FIRECRAWL_CREDIT * 1e9) / 1e9;
  },
};

/** LiteLLM's linkup/search and linkup/search-deep. */
const LINKUP_STANDARD = 0.00587;
const LINKUP_DEEP = 0.05867;

/**
 * Linkup's `POST /v1/search` (Bearer): `q` (a list joined), `depth` (`standard` unless set), `outputType`
 * (`searchResults` unless set), `maxResults`, `includeDomains`, `fromDate`/`toDate` from `start_date`/`end_date`;
 * a result's `name` is the title (an image's URL when it has none) and `content` the snippet.
 */
export const linkup: SearchProvider = {
  defaultBase: 'https://api.linkup.so/v1',
  baseVar: 'LINKUP_API_BASE',
  keyVars: ['LINKUP_API_KEY'],
  authHeaders: bearer,
  method: 'POST',
  url: searchUrl,
  body(request) {
    const { depth, outputType, start_date: from, end_date: to, ...own } = providerFields(request);
    return {
      q: oneQuery(request.query),
      depth: depth ?? 'standard',
      outputType: outputType ?? 'searchResults',
      ...(request.max_results !== undefined ? { maxResults: request.max_results } : {}),
      ...(request.search_domain_filter !== undefined ? { includeDomains: request.search_domain_filter } : {}),
      ...(from !== undefined ? { fromDate: from } : {}),
      ...(to !== undefined ? { toDate: to } : {}),
      // As LiteLLM, a country (which Linkup has no field for) goes on as it came.
      ...(request.country !== undefined ? { country: request.country } : {}),
      ...own,
    };
  },
  results(answer) {
    const list = isObject(answer) && Array.isArray(answer.results) ? answer.results.filter(isObject) : [];
    const out: SearchResult[] = [];
    for (const r of list) {
      const type = r.type ?? 'text';
      if (type === 'text') out.push({ title: text(r.name), url: text(r.url), snippet: text(r.content) });
      else if (type === 'image') out.push({ title: text(r.name) || text(r.url), url: text(r.url), snippet: text(r.content) });
    }
    return out;
  },
  price: (sent) => (sent.depth === 'deep' ? LINKUP_DEEP : LINKUP_STANDARD),
};

/** The language SearXNG is asked for, from a country (LiteLLM's approximate map; any other code as it is, lower-cased). */
const SEARXNG_LANGUAGE: Record<string, string> = { us: 'en', uk: 'en', de: 'de', fr: 'fr', es: 'es', jp: 'ja' };

/**
 * A self-hosted SearXNG's `GET {api_base}/search?format=json` (Bearer only when a key is set): `q` (a list joined),
 * `language` from the country; SearXNG answers its own page of results (max_results and domains are not sent,
 * as in LiteLLM); `content` is the snippet and `publishedDate` (or `pubdate`) the date.
 */
export const searxng: SearchProvider = {
  defaultBase: '',
  baseVar: 'SEARXNG_API_BASE',
  keyVars: ['SEARXNG_API_KEY'],
  keyOptional: true,
  authHeaders: bearer,
  method: 'GET',
  url: searchUrl,
  body(request) {
    const country = request.country?.toLowerCase();
    return {
      q: oneQuery(request.query),
      ...(country !== undefined ? { language: SEARXNG_LANGUAGE[country] ?? country } : {}),
      ...providerFields(request),
      // The answer is read as JSON, whatever the request asked for.
      format: 'json',
    };
  },
  results: (answer) => mapped(answer, (r) => ({
    title: text(r.title), url: text(r.url), snippet: text(r.content), date: optionalText(r.publishedDate) ?? optionalText(r.pubdate),
  })),
  // Self-hosted: LiteLLM's searxng/search costs nothing; a tool's input_cost_per_query still applies.
  price: () => 0,
};
