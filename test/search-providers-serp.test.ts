import { describe, expect, it } from 'vitest';
import { MORE_SEARCH_KEYS } from './fakes/search-providers-more.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { generateKey, type Json, keySpend, moreFake, search, stack, useSearchStack } from './support/search-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * The Search API's further providers, second part (Serper, Linkup, SearchAPI, DataForSEO; the first part is
 * search-providers-more.test.ts): what each is sent in its own wire format through workerd, the SearchResponse
 * the client gets, the price, and each provider's failures (a 429's retry-after, credentials masked).
 */

useSearchStack({ more: true });

const ok = async (path: string, body: Json, key = TEST_MASTER_KEY) => {
  const res = await search(path, body, key);
  expect(res.status).toBe(200);
  return { res, json: (await res.json()) as Json };
};

describe('Serper', () => {
  it('sends q with site: clauses, num and a lower-case gl with X-API-KEY, and answers the organic results', async () => {
    const { res, json } = await ok('/v1/search/serper', { query: 'edge', max_results: 2, search_domain_filter: ['a.com', 'b.org'], country: 'GB', tbs: 'qdr:d' });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.001');
    expect(json.results).toEqual([
      { title: 'Serper 1', url: 'https://serper.example/1', snippet: 'On (edge) (site:a.com OR site:b.org)', date: 'Aug 1, 2026' },
      { title: 'Serper 2', url: 'https://serper.example/2', snippet: 'On (edge) (site:a.com OR site:b.org)' },
    ]);
    const [sent] = moreFake.requests;
    expect([sent!.path, sent!.headers['x-api-key']]).toEqual(['/serper/search', MORE_SEARCH_KEYS.serper]);
    expect(sent!.body).toEqual({ q: '(edge) (site:a.com OR site:b.org)', num: 2, gl: 'gb', tbs: 'qdr:d' });
  });

  it('passes Serper\'s 429 on with its retry-after, and costs nothing', async () => {
    const key = await generateKey();
    moreFake.failNext(429, { message: 'Too many requests', statusCode: 429 }, { 'retry-after': '7' });
    const res = await search('/v1/search/serper', { query: 'q' }, key);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ error: { message: 'serper rate limit reached for search tool serper: Too many requests', type: 'rate_limit_error', param: null, code: '429' } });
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect([row.status, Number(row.spend)]).toEqual(['failure', 0]);
  });

  it('is a 500 naming SERPER_API_KEY for a tool with no credential, and calls no provider', async () => {
    const res = await search('/v1/search/serper-no-key', { query: 'q' }, TEST_MASTER_KEY);
    expect(res.status).toBe(500);
    expect(((await res.json()) as Json).error.message).toBe('Search tool serper-no-key has no credential: set its litellm_params.api_key (or SERPER_API_KEY)');
    expect(moreFake.requests).toHaveLength(0);
  });
});

describe('Linkup', () => {
  it('sends q, depth, outputType, maxResults, includeDomains and the dates with a Bearer key, priced by depth', async () => {
    const { res, json } = await ok('/v1/search/linkup', { query: 'edge', max_results: 5, search_domain_filter: ['a.com'], start_date: '2026-01-01', end_date: '2026-02-01', depth: 'deep' });
    expect(json.results).toEqual([
      { title: 'Linkup 1', url: 'https://linkup.example/1', snippet: 'On edge' },
      { title: 'https://linkup.example/img.png', url: 'https://linkup.example/img.png', snippet: '' },
    ]);
    const [sent] = moreFake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/linkup/v1/search', `Bearer ${MORE_SEARCH_KEYS.linkup}`]);
    expect(sent!.body).toEqual({ q: 'edge', depth: 'deep', outputType: 'searchResults', maxResults: 5, includeDomains: ['a.com'], fromDate: '2026-01-01', toDate: '2026-02-01' });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.05867');
    const standard = await ok('/v1/search/linkup', { query: 'edge' });
    expect(moreFake.requests[1]!.body).toEqual({ q: 'edge', depth: 'standard', outputType: 'searchResults' });
    expect(standard.res.headers.get('x-litellm-response-cost')).toBe('0.00587');
  });
});

describe('SearchAPI', () => {
  it('sends engine=google, q with site: clauses, num of at most 10, gl and the api_key in the query, at the tool\'s own price', async () => {
    const { res, json } = await ok('/v1/search/searchapi', { query: 'edge', max_results: 20, search_domain_filter: ['a.com'], country: 'US' });
    expect(json.results).toHaveLength(10);
    expect(json.results[0]).toEqual({ title: 'SearchAPI 1', url: 'https://searchapi.example/1', snippet: 'On (edge) AND (site:a.com)', date: 'Jul 30, 2026' });
    expect(moreFake.requests[0]!.body).toEqual({ engine: 'google', q: '(edge) AND (site:a.com)', num: '10', gl: 'us', api_key: MORE_SEARCH_KEYS.searchapi });
    // LiteLLM's price map has no SearchAPI price: the tool's input_cost_per_query is the price.
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.004');
  });

  it('answers a refused key as a 401 naming the tool, with the key masked where the provider repeats it', async () => {
    const refused = await search('/v1/search/searchapi-stale', { query: 'q' }, TEST_MASTER_KEY);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).error).toMatchObject({ type: 'authentication_error', message: 'searchapi refused the credential of search tool searchapi-stale (HTTP 401): Invalid API key.' });
    moreFake.failNext(401, { error: `Invalid API key ${MORE_SEARCH_KEYS.searchapi} (${encodeURIComponent(MORE_SEARCH_KEYS.searchapi)})` });
    const echoed = await search('/v1/search/searchapi', { query: 'q' }, TEST_MASTER_KEY);
    const text = await echoed.text();
    expect(text).toContain('Invalid API key *** (***)');
    expect(text).not.toContain(MORE_SEARCH_KEYS.searchapi);
  });
});

describe('DataForSEO', () => {
  it('posts one task with Basic auth from DATAFORSEO_LOGIN and DATAFORSEO_PASSWORD, and answers its organic items only', async () => {
    const { res, json } = await ok('/v1/search/dataforseo', { query: ['edge', 'ignored'], max_results: 30, country: 'United States', search_domain_filter: ['a.com'] });
    expect(json).toEqual({ object: 'search', results: [{ title: 'DataForSEO 1', url: 'https://dfs.example/1', snippet: 'On (edge) (site:a.com)' }] });
    const [sent] = moreFake.requests;
    expect(sent!.headers.authorization).toBe(`Basic ${Buffer.from(MORE_SEARCH_KEYS.dataforseo).toString('base64')}`);
    expect(sent!.body).toEqual([{ keyword: '(edge) (site:a.com)', depth: 30, location_name: 'United States', language_code: 'en' }]);
    // Billed by the page of 10 results asked for: 3 pages, 5 times over for the site: operator in the keyword.
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.045');
    const german = await ok('/v1/search/dataforseo', { query: 'edge', language_name: 'German' });
    expect(moreFake.requests[1]!.body).toEqual([{ keyword: 'edge', location_code: 2840, language_name: 'German' }]);
    expect(german.res.headers.get('x-litellm-response-cost')).toBe('0.003');
  });

  it('sends a two-letter country as its location_code, and prices calculate_rectangles as a page more', async () => {
    const { res } = await ok('/v1/search/dataforseo', { query: 'edge', country: 'de', calculate_rectangles: true });
    expect(moreFake.requests[0]!.body).toEqual([{ keyword: 'edge', location_code: 2276, language_code: 'en', calculate_rectangles: true }]);
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.006');
  });

  it('refuses an option DataForSEO bills that the gateway does not price, sending nothing and costing nothing', async () => {
    const key = await generateKey();
    const res = await search('/v1/search/dataforseo', { query: 'edge', load_async_ai_overview: true }, key);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: {
      message: 'load_async_ai_overview is billed by DataForSEO on top of the search, which the gateway does not price: leave it out',
      type: 'invalid_request_error', param: 'load_async_ai_overview', code: '400',
    } });
    expect(moreFake.requests).toHaveLength(0);
    expect(await keySpend(key)).toBe(0);
  });

  it('answers an error DataForSEO reports inside an HTTP 200 as the provider\'s error, costing nothing', async () => {
    const key = await generateKey();
    moreFake.failNext(200, { status_code: 20000, status_message: 'Ok.', tasks: [{ status_code: 40501, status_message: 'Invalid Field: \'depth\'.', result: null }] });
    const invalid = await search('/v1/search/dataforseo', { query: 'edge' }, key);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ error: { message: 'dataforseo refused the search (status 40501): Invalid Field: \'depth\'.', type: 'invalid_request_error', param: null, code: '400' } });
    const row = await eventually(() => spendLogRow(stack.db.url, invalid.headers.get('x-litellm-call-id') ?? ''));
    expect([row.status, Number(row.spend)]).toEqual(['failure', 0]);
    moreFake.failNext(200, { status_code: 40100, status_message: 'You are not authorized to access this resource.' });
    const refused = await search('/v1/search/dataforseo', { query: 'edge' }, key);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).error).toMatchObject({ type: 'authentication_error', message: 'dataforseo refused the credential of search tool dataforseo (status 40100): You are not authorized to access this resource.' });
    moreFake.failNext(200, { status_code: 20000, tasks: [{ status_code: 40101, status_message: 'Internal SE Server Error.' }] });
    const failed = await search('/v1/search/dataforseo', { query: 'edge' }, key);
    expect(failed.status).toBe(502);
    expect(await keySpend(key)).toBe(0);
  });

  it('passes over an api_key that is no login:password pair for DATAFORSEO_LOGIN and DATAFORSEO_PASSWORD, as LiteLLM does', async () => {
    const { json } = await ok('/v1/search/dataforseo-bare', { query: 'edge' });
    expect(json.results).toHaveLength(1);
    expect(moreFake.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from(MORE_SEARCH_KEYS.dataforseo).toString('base64')}`);
  });

  it('masks the password should DataForSEO repeat it, and answers bad input with a 400 that sends nothing', async () => {
    moreFake.failNext(401, { status_code: 40100, status_message: 'Wrong password dfs-pass-0108 for dfs-login@example.com' });
    const refused = await search('/v1/search/dataforseo', { query: 'q' }, TEST_MASTER_KEY);
    expect(refused.status).toBe(401);
    const text = await refused.text();
    expect(text).toContain('Wrong password *** for dfs-login@example.com');
    expect(text).not.toContain('dfs-pass-0108');
    moreFake.reset();
    const bad = await search('/v1/search/dataforseo', { query: '', max_results: 3 }, TEST_MASTER_KEY);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error).toMatchObject({ param: 'query', code: '400' });
    expect(moreFake.requests).toHaveLength(0);
  });
});

describe('listing', () => {
  it('lists the further providers\' tools by their LiteLLM provider names, never their credentials', async () => {
    const res = await fetch(`${stack.url}/v1/search/tools`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const text = await res.text();
    const byName = Object.fromEntries((JSON.parse(text) as Json).data.map((t: Json) => [t.search_tool_name, t.search_provider]));
    expect(byName).toMatchObject({
      parallel: 'parallel_ai', google: 'google_pse', firecrawl: 'firecrawl', searx: 'searxng', serper: 'serper', linkup: 'linkup', searchapi: 'searchapi', dataforseo: 'dataforseo',
    });
    for (const secret of Object.values(MORE_SEARCH_KEYS)) expect(text).not.toContain(secret);
  });
});
