import { describe, expect, it } from 'vitest';
import { GOOGLE_ENGINE_ID, MORE_SEARCH_KEYS } from './fakes/search-providers-more.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { generateKey, type Json, keySpend, moreFake, search, stack, useSearchStack } from './support/search-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * The Search API's further providers, first part (Parallel AI, Google PSE, Firecrawl, SearXNG; the rest are in
 * search-providers-serp.test.ts), each spoken to in its own wire format through workerd: what each is sent (and
 * where its credential goes), the SearchResponse the client gets, the price, and each provider's failures.
 */

useSearchStack({ more: true });

const ok = async (path: string, body: Json, key = TEST_MASTER_KEY) => {
  const res = await search(path, body, key);
  expect(res.status).toBe(200);
  return { res, json: (await res.json()) as Json };
};

describe('Parallel AI', () => {
  it('sends search_queries, objective, mode basic and advanced_settings with the key from PARALLEL_API_KEY, and bills extra results', async () => {
    const key = await generateKey();
    const { res, json } = await ok('/v1/search/parallel', {
      query: 'edge gateways', max_results: 15, search_domain_filter: ['a.com'], country: 'US', exclude_domains: ['b.com'], max_tokens_per_page: 100,
    }, key);
    expect(json.results).toHaveLength(3);
    expect(json.results[0]).toEqual({ title: 'Parallel 1', url: 'https://parallel.example/1', snippet: 'First on edge gateways ... second', date: '2026-08-01' });
    const [sent] = moreFake.requests;
    expect([sent!.path, sent!.headers['x-api-key']]).toEqual(['/parallel/v1/search', MORE_SEARCH_KEYS.parallel]);
    expect(sent!.body).toEqual({
      search_queries: ['edge gateways'], objective: 'edge gateways', mode: 'basic',
      advanced_settings: { max_results: 15, location: 'US', source_policy: { include_domains: ['a.com'], exclude_domains: ['b.com'] } },
    });
    // $0.004 a search and $0.001 for each of the 5 results past Parallel's 10.
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.009');
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'asearch', model: 'parallel', custom_llm_provider: 'parallel_ai', status: 'success', api_key: sha256(key) });
    expect(row.spend as number).toBeCloseTo(0.009, 12);
    expect(JSON.stringify(row)).not.toContain(MORE_SEARCH_KEYS.parallel);
    expect(await eventually(async () => ((await keySpend(key)) > 0 ? keySpend(key) : undefined))).toBeCloseTo(0.009, 12);
  });

  it('sends a list of queries as search_queries alone, and maps v1beta\'s processor pro to mode advanced', async () => {
    await ok('/search/parallel', { query: ['a', 'b'], processor: 'pro' });
    expect(moreFake.requests[0]!.body).toEqual({ search_queries: ['a', 'b'], mode: 'advanced' });
  });
});

describe('Google PSE', () => {
  it('sends a GET with the key and the engine id (from GOOGLE_PSE_ENGINE_ID) in the query, num of at most 10 and the first domain', async () => {
    const { res, json } = await ok('/v1/search/google', { query: 'edge', max_results: 12, search_domain_filter: ['a.com', 'b.com'], country: 'de', safe: 'active' });
    expect(json.results).toHaveLength(10);
    expect(json.results[0]).toEqual({ title: 'Google 1', url: 'https://google.example/1', snippet: 'On edge' });
    expect(moreFake.requests[0]!.body).toEqual({ q: 'edge', num: '10', siteSearch: 'a.com', siteSearchFilter: 'i', gl: 'DE', safe: 'active', cx: GOOGLE_ENGINE_ID, key: MORE_SEARCH_KEYS.google });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.005');
  });

  it('never shows the key Google was sent in its URL: a refused key (Google\'s HTTP 400 API_KEY_INVALID) is a 401 naming the tool, an echoed URL is masked', async () => {
    const refused = await search('/v1/search/google-stale', { query: 'q' }, TEST_MASTER_KEY);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: {
      message: 'google_pse refused the credential of search tool google-stale (HTTP 400): API key not valid. Please pass a valid API key.', type: 'authentication_error', param: null, code: '401',
    } });
    // Any other 400 of Google's is the client's bad request.
    moreFake.failNext(400, { error: { code: 400, message: 'Request contains an invalid argument.', status: 'INVALID_ARGUMENT', details: [{ reason: 'BAD_REQUEST' }] } });
    const bad = await search('/v1/search/google', { query: 'q' }, TEST_MASTER_KEY);
    expect(await bad.json()).toEqual({ error: { message: 'google_pse refused the search (HTTP 400): Request contains an invalid argument.', type: 'invalid_request_error', param: null, code: '400' } });
    moreFake.failNext(500, (url: string) => ({ error: { code: 500, message: `Backend Error while serving ${url}`, status: 'INTERNAL' } }));
    const failed = await search('/v1/search/google', { query: 'q' }, TEST_MASTER_KEY);
    expect(failed.status).toBe(502);
    const text = await failed.text();
    expect(text).toContain('google_pse failed the search (HTTP 500): Backend Error while serving /google/customsearch/v1?q=q');
    expect(text).toContain('key=***');
    expect(text).not.toContain(MORE_SEARCH_KEYS.google);
    const row = await eventually(() => spendLogRow(stack.db.url, failed.headers.get('x-litellm-call-id') ?? ''));
    expect(row.status).toBe('failure');
    expect(JSON.stringify(row)).not.toContain(MORE_SEARCH_KEYS.google);
  });
});

describe('Firecrawl', () => {
  it('sends query, limit, country and markdown scrapeOptions with a Bearer key; answers web then news results, priced per 10 asked and per page scraped', async () => {
    const { res, json } = await ok('/v1/search/firecrawl', { query: ['edge', 'gateway'], max_results: 2, country: 'US', sources: ['web', 'news'] });
    expect(json.results).toEqual([
      { title: 'Firecrawl 1', url: 'https://firecrawl.example/1', snippet: '# Page on edge gateway' },
      { title: 'Firecrawl 2', url: 'https://firecrawl.example/2', snippet: 'About edge gateway' },
      { title: 'Firecrawl news', url: 'https://firecrawl.example/news', snippet: 'News', date: '3 days ago' },
    ]);
    const [sent] = moreFake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/firecrawl/v2/search', `Bearer ${MORE_SEARCH_KEYS.firecrawl}`]);
    expect(sent!.body).toEqual({
      query: 'edge gateway', limit: 2, country: 'US', sources: ['web', 'news'], scrapeOptions: { formats: ['markdown'], onlyMainContent: true, parsers: [{ type: 'pdf', maxPages: 1 }] },
    });
    // 2 credits for up to 10 results, and 1 for each of the 2 pages scraped as markdown and 1 for its one PDF page: 6 credits at $0.00083.
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.00498');
    const many = await ok('/v1/search/firecrawl', { query: 'q', limit: 25, scrapeOptions: { formats: ['links'] } });
    expect(moreFake.requests[1]!.body).toEqual({ query: 'q', limit: 25, scrapeOptions: { formats: ['links'], parsers: [{ type: 'pdf', maxPages: 1 }] } });
    // 6 credits for 21-30 results, and 25 pages scraped with a PDF page each: 56 credits.
    expect(many.res.headers.get('x-litellm-response-cost')).toBe('0.04648');
  });

  it('prices a json format and the enhanced proxy per scraped page, and a scrape option it does not know at the top rate', async () => {
    const key = await generateKey();
    const json = await ok('/v1/search/firecrawl', { query: 'q', max_results: 3, scrapeOptions: { formats: ['markdown', { type: 'json', prompt: 'prices' }], proxy: 'enhanced' } }, key);
    // 2 credits, and 3 pages at 1 + 4 (json) + 4 (enhanced) + 1 (a PDF page): 32 credits.
    expect(json.res.headers.get('x-litellm-response-cost')).toBe('0.02656');
    const unknown = await ok('/v1/search/firecrawl', { query: 'q', max_results: 1, scrapeOptions: { formats: [{ type: 'video' }] } }, key);
    // 2 credits, and 1 page at the top rate of 10 credits and a PDF page.
    expect(unknown.res.headers.get('x-litellm-response-cost')).toBe('0.01079');
    expect(await eventually(async () => ((await keySpend(key)) >= 0.0373 ? keySpend(key) : undefined))).toBeCloseTo(0.03735, 9);
  });

  it('sends to FIRECRAWL_API_BASE for a tool without api_base', async () => {
    await ok('/v1/search/firecrawl-env', { query: 'q', max_results: 1 });
    expect(moreFake.requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/firecrawl/v2/search', `Bearer ${MORE_SEARCH_KEYS.firecrawl}`]]);
  });
});

describe('SearXNG', () => {
  it('asks the instance for JSON with q and a language from the country, with the key when the tool has one and none otherwise', async () => {
    const { res, json } = await ok('/v1/search/searx', { query: 'edge', country: 'JP', max_results: 1, categories: 'news' });
    expect(json).toEqual({ object: 'search', results: [
      { title: 'SearX 1', url: 'https://searx.example/1', snippet: 'On edge', date: '2026-07-01T00:00:00' },
      { title: 'SearX 2', url: 'https://searx.example/2', snippet: 'Second', date: '2026-06-30' },
    ] });
    expect(Number(res.headers.get('x-litellm-response-cost') ?? 0)).toBe(0);
    moreFake.failNext(200, { query: 'edge', results: [] });
    const open = await ok('/v1/search/searx-open', { query: 'edge', format: 'csv' });
    expect(open.json).toEqual({ object: 'search', results: [] });
    expect(moreFake.requests.map((r) => [r.path, r.headers.authorization, r.body])).toEqual([
      ['/searxng/search', `Bearer ${MORE_SEARCH_KEYS.searxng}`, { q: 'edge', language: 'ja', categories: 'news', format: 'json' }],
      ['/searxng/search', undefined, { q: 'edge', format: 'json' }],
    ]);
  });
});

describe('SearXNG from SEARXNG_API_BASE', () => {
  it('searches the instance SEARXNG_API_BASE names for a tool without api_base', async () => {
    const { json } = await ok('/v1/search/searx-env', { query: 'edge' });
    expect(json.results).toHaveLength(2);
    expect(moreFake.requests.map((r) => [r.path, r.headers.authorization, r.body])).toEqual([['/searxng/search', `Bearer ${MORE_SEARCH_KEYS.searxng}`, { q: 'edge', format: 'json' }]]);
  });
});

describe('a provider\'s answer', () => {
  it('is not followed through a redirect, which would carry the credential on: a 502 that costs nothing', async () => {
    const key = await generateKey();
    moreFake.failNext(307, { moved: true }, { location: `${moreFake.url}/serper/search` });
    const res = await search('/v1/search/serper', { query: 'q' }, key);
    expect(res.status).toBe(502);
    const body = (await res.json()) as Json;
    expect(body.error).toMatchObject({ type: 'api_error', message: 'serper answered search tool serper with HTTP 307 (a redirect, not followed: set its api_base to where it leads)' });
    expect(moreFake.requests).toHaveLength(1);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect([row.status, Number(row.spend)]).toEqual(['failure', 0]);
  });

  it('is read up to 16 MB (a larger one is a 502), and each snippet is cut to 20,000 characters', async () => {
    moreFake.failNext(200, { organic: [{ title: 'Huge', link: 'https://serper.example/huge', snippet: 'a'.repeat(17 * 1024 * 1024) }] });
    const huge = await search('/v1/search/serper', { query: 'q' }, TEST_MASTER_KEY);
    expect(huge.status).toBe(502);
    expect(((await huge.json()) as Json).error.message).toBe('serper answered search tool serper with more than 16 MB');
    moreFake.failNext(200, { organic: [{ title: 'Long', link: 'https://serper.example/long', snippet: `${'b'.repeat(20_000)}cut here` }] });
    const { json } = await ok('/v1/search/serper', { query: 'q' });
    expect(json.results).toEqual([{ title: 'Long', url: 'https://serper.example/long', snippet: 'b'.repeat(20_000) }]);
  });
});
