import { describe, expect, it } from 'vitest';
import { eventually, spendLogRow } from './support/keys.ts';
import { fake, generateKey, type Json, keySpend, moreFake, search, stack, useSearchStack } from './support/search-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * What the further Search API providers bill beyond a plain search, priced from what each is sent: DataForSEO's
 * search operators (5×), Serper's num above 10, Firecrawl's PDF pages and zero data retention; a count field that
 * is not a whole number refused; and DataForSEO's status codes inside an HTTP 200 (no results, rate limits, account).
 */

useSearchStack({ more: true });

const cost = (res: Response) => res.headers.get('x-litellm-response-cost');
const ok = async (path: string, body: Json, key = TEST_MASTER_KEY) => {
  const res = await search(path, body, key);
  expect(res.status).toBe(200);
  return { res, json: (await res.json()) as Json };
};

describe('DataForSEO search operators', () => {
  it('prices a keyword with a search operator 5 times over: the domain filter\'s site: clauses, or the client\'s own', async () => {
    expect(cost((await ok('/v1/search/dataforseo', { query: 'site plans' })).res)).toBe('0.003');
    const filtered = await ok('/v1/search/dataforseo', { query: 'edge', search_domain_filter: ['a.com'] });
    expect(moreFake.requests[1]!.body).toMatchObject([{ keyword: '(edge) (site:a.com)' }]);
    expect(cost(filtered.res)).toBe('0.015');
    expect(cost((await ok('/v1/search/dataforseo', { query: 'edge intitle:gateway' })).res)).toBe('0.015');
    // A client's own keyword is what is sent, so it is what is priced.
    const own = await ok('/v1/search/dataforseo', { query: 'edge', keyword: 'allinurl:edge gateway', max_results: 20 });
    expect(moreFake.requests[3]!.body).toMatchObject([{ keyword: 'allinurl:edge gateway', depth: 20 }]);
    expect(cost(own.res)).toBe('0.03');
    const row = await eventually(() => spendLogRow(stack.db.url, own.res.headers.get('x-litellm-call-id') ?? ''));
    expect(Number(row.spend)).toBeCloseTo(0.03, 12);
  });
});

describe('DataForSEO status codes', () => {
  const task = (status_code: number, status_message: string) => ({ status_code: 20000, status_message: 'Ok.', tasks: [{ id: 't', status_code, status_message, result: null }] });

  it('answers 40102 (No Search Results) as an empty list at the search\'s price, as LiteLLM does', async () => {
    const key = await generateKey();
    moreFake.failNext(200, task(40102, 'No Search Results.'));
    const { res, json } = await ok('/v1/search/dataforseo', { query: 'zzqx' }, key);
    expect(json).toEqual({ object: 'search', results: [] });
    expect(cost(res)).toBe('0.003');
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect([row.status, Number(row.spend)]).toEqual(['success', 0.003]);
  });

  it('answers its rate limits as a 429, its account and balance codes as a 502 with its words, costing nothing', async () => {
    const key = await generateKey();
    for (const [code, message] of [[40202, 'Rate-limit per minute exceeded.'], [40209, 'Too many simultaneous requests.']] as const) {
      moreFake.failNext(200, task(code, message));
      const res = await search('/v1/search/dataforseo', { query: 'q' }, key);
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ error: { message: `dataforseo rate limit reached for search tool dataforseo (status ${code}): ${message}`, type: 'rate_limit_error', param: null, code: '429' } });
    }
    for (const [code, message] of [[40200, 'Payment Required.'], [40210, 'Insufficient funds. Please top up your balance.'], [40201, 'Your account was suspended.']] as const) {
      moreFake.failNext(200, { status_code: code, status_message: message, tasks: null });
      const res = await search('/v1/search/dataforseo', { query: 'q' }, key);
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ error: { message: `dataforseo failed the search (status ${code}): ${message}`, type: 'api_error', param: null, code: '502' } });
    }
    moreFake.failNext(200, task(40501, 'Invalid Field: \'depth\'.'));
    expect((await search('/v1/search/dataforseo', { query: 'q' }, key)).status).toBe(400);
    expect(await keySpend(key)).toBe(0);
  });
});

describe('Serper', () => {
  it('prices a search of more than 10 results at 2 credits ($0.002)', async () => {
    expect(cost((await ok('/v1/search/serper', { query: 'q', max_results: 10 })).res)).toBe('0.001');
    expect(cost((await ok('/v1/search/serper', { query: 'q', max_results: 20 })).res)).toBe('0.002');
    const own = await ok('/v1/search/serper', { query: 'q', num: 11 });
    expect(moreFake.requests[2]!.body).toMatchObject({ num: 11 });
    expect(cost(own.res)).toBe('0.002');
  });
});

describe('Firecrawl PDF pages and zero data retention', () => {
  it('prices a client\'s own parsers: none parsed for [], maxPages for each scraped result', async () => {
    const none = await ok('/v1/search/firecrawl', { query: 'q', max_results: 2, scrapeOptions: { formats: ['markdown'], parsers: [] } });
    expect(moreFake.requests[0]!.body).toMatchObject({ scrapeOptions: { formats: ['markdown'], parsers: [] } });
    // 2 credits, and 2 pages at 1 credit: 4 credits.
    expect(cost(none.res)).toBe('0.00332');
    const three = await ok('/v1/search/firecrawl', { query: 'q', max_results: 2, scrapeOptions: { parsers: [{ type: 'pdf', maxPages: 3 }] } });
    expect(moreFake.requests[1]!.body).toMatchObject({ scrapeOptions: { parsers: [{ type: 'pdf', maxPages: 3 }] } });
    // 2 credits, and 2 pages at 1 credit and 3 PDF pages: 10 credits.
    expect(cost(three.res)).toBe('0.0083');
  });

  it('refuses a pdf parser without maxPages (billed by every page), sending nothing and costing nothing', async () => {
    const key = await generateKey();
    for (const parsers of [['pdf'], [{ type: 'pdf' }], [{ type: 'pdf', maxPages: '5' }]]) {
      const res = await search('/v1/search/firecrawl', { query: 'q', scrapeOptions: { parsers } }, key);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as Json;
      expect([error.type, error.param, error.code]).toEqual(['invalid_request_error', 'scrapeOptions.parsers', '400']);
    }
    expect(moreFake.requests).toHaveLength(0);
    expect(await keySpend(key)).toBe(0);
  });

  it('prices a zero-data-retention search at 10 credits for every 10 results, and a credit more for each page', async () => {
    const zdr = await ok('/v1/search/firecrawl', { query: 'q', max_results: 12, zeroDataRetention: true });
    expect(moreFake.requests[0]!.body).toMatchObject({ limit: 12, zeroDataRetention: true });
    // 20 credits for 11-20 results, and 12 pages at 1 + 1 (a PDF page) + 1 (zero data retention): 56 credits.
    expect(cost(zdr.res)).toBe('0.04648');
  });
});

describe('count fields that are not whole numbers', () => {
  it('refuses each priced count field that is not a whole number with a 400 naming it, sending nothing', async () => {
    const key = await generateKey();
    const cases: [string, Json, string][] = [
      ['parallel', { query: 'q', advanced_settings: { max_results: '100' } }, 'advanced_settings.max_results'],
      ['firecrawl', { query: 'q', limit: '100' }, 'limit'],
      ['serper', { query: 'q', num: '20' }, 'num'],
      ['serper', { query: 'q', num: 12.5 }, 'num'],
      ['dataforseo', { query: 'q', depth: '300' }, 'depth'],
      ['exa-list', { query: 'q', numResults: '100' }, 'numResults'],
    ];
    for (const [tool, body, param] of cases) {
      const res = await search(`/v1/search/${tool}`, body, key);
      expect([tool, res.status]).toEqual([tool, 400]);
      expect(await res.json()).toEqual({ error: { message: `${param} must be a whole number (the search is priced by it)`, type: 'invalid_request_error', param, code: '400' } });
    }
    expect(moreFake.requests).toHaveLength(0);
    expect(fake.requests).toHaveLength(0);
    expect(await keySpend(key)).toBe(0);
  });

  it('prices a whole count as sent: Parallel\'s own advanced_settings.max_results of 100', async () => {
    const { res } = await ok('/v1/search/parallel', { query: 'q', advanced_settings: { max_results: 100 } });
    // $0.004 a search and $0.001 for each of the 90 results past 10.
    expect(cost(res)).toBe('0.094');
  });
});
