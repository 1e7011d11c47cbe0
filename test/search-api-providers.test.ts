import { describe, expect, it } from 'vitest';
import { SEARCH_KEYS } from './fakes/search-providers.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { fake, generateKey, keySpend, search, stack, useSearchStack } from './support/search-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * The Search API spoken to each provider in its own wire format (Tavily, Perplexity, Exa, Brave): what each is
 * sent, what the client is answered, and each search priced and logged (`call_type: asearch`).
 */

useSearchStack();

describe('searching through a configured tool', () => {
  it('sends Tavily its own request with the tool\'s key, answers a SearchResponse, bills the key and logs the search', async () => {
    const key = await generateKey();
    const res = await search('/v1/search/web', { query: 'edge gateways', max_results: 2, search_domain_filter: ['example.com'], country: 'US', topic: 'news' }, key);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: 'search',
      results: [
        { title: 'Tavily 1: edge gateways', url: 'https://tavily.example/1', snippet: 'About edge gateways (1)' },
        { title: 'Tavily 2: edge gateways', url: 'https://tavily.example/2', snippet: 'About edge gateways (2)' },
      ],
    });
    const [sent] = fake.requests;
    expect(sent!.path).toBe('/tavily/search');
    expect(sent!.headers.authorization).toBe(`Bearer ${SEARCH_KEYS.tavily}`);
    expect(sent!.body).toEqual({ query: 'edge gateways', max_results: 2, include_domains: ['example.com'], country: 'us', topic: 'news' });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.008');
    expect(res.headers.get('x-litellm-model-group')).toBe('web');
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'asearch', model_group: 'web', model: 'web', custom_llm_provider: 'tavily', status: 'success', api_key: sha256(key) });
    expect(row.spend as number).toBeCloseTo(0.008, 12);
    expect(JSON.stringify(row)).not.toContain(SEARCH_KEYS.tavily);
    expect(await eventually(async () => ((await keySpend(key)) > 0 ? keySpend(key) : undefined))).toBeCloseTo(0.008, 12);
  });

  it('sends Perplexity the Search API request as it came, naming the tool in the body of POST /search', async () => {
    const key = await generateKey();
    const res = await search('/search', { search_tool_name: 'pplx', query: ['gateway', 'edge'], max_results: 2, max_tokens_per_page: 512, metadata: { tags: ['x'] } }, key);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: 'search',
      results: [
        { title: 'Perplexity 1', url: 'https://pplx.example/1', snippet: 'Snippet on gateway | edge', date: '2026-10-01', last_updated: '2026-11-01' },
        { title: 'Perplexity 2', url: 'https://pplx.example/2', snippet: 'Snippet on gateway | edge', date: '2026-10-01' },
      ],
    });
    const [sent] = fake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/perplexity/search', `Bearer ${SEARCH_KEYS.perplexity}`]);
    expect(sent!.body).toEqual({ query: ['gateway', 'edge'], max_results: 2, max_tokens_per_page: 512 });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.005');
  });

  it('sends Exa its camelCase request with x-api-key, on /search/{name} and /v1/search, at the tool\'s own price', async () => {
    for (const [path, body] of [['/search/exa', { query: 'q', max_results: 1, country: 'DE' }], ['/v1/search', { search_tool_name: 'exa', query: 'q', max_results: 1, country: 'DE' }]] as const) {
      const res = await search(path, body, TEST_MASTER_KEY);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ object: 'search', results: [{ title: 'Exa 1', url: 'https://exa.example/1', snippet: 'Text on q', date: '2026-09-30T00:00:00.000Z' }] });
      expect(res.headers.get('x-litellm-response-cost')).toBe('0.01');
    }
    expect(fake.requests.map((r) => [r.path, r.headers['x-api-key'], r.body])).toEqual([
      ['/exa/search', SEARCH_KEYS.exa, { query: 'q', numResults: 1, userLocation: 'DE', contents: { text: true } }],
      ['/exa/search', SEARCH_KEYS.exa, { query: 'q', numResults: 1, userLocation: 'DE', contents: { text: true } }],
    ]);
  });

  it('prices an Exa search by the count it is sent: the client\'s own numResults, not max_results', async () => {
    const key = await generateKey();
    const res = await search('/v1/search/exa-list', { query: 'q', max_results: 1, numResults: 100 }, key);
    expect(res.status).toBe(200);
    expect(fake.requests[0]!.body).toMatchObject({ numResults: 100 });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.025');
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row.spend as number).toBeCloseTo(0.025, 12);
    const few = await search('/v1/search/exa-list', { query: 'q', numResults: 3 }, key);
    expect(few.headers.get('x-litellm-response-cost')).toBe('0.005');
  });
});

describe('Brave', () => {
  it('sends the search as the URL query of a GET with the subscription token, and answers its sections up to count', async () => {
    const res = await search('/v1/search/brave', { query: 'edge', max_results: 2, search_domain_filter: ['a.com', 'b.org'], country: 'US', safesearch: 'strict' }, TEST_MASTER_KEY);
    expect(res.status).toBe(200);
    const snippet = 'On (edge) AND (site:a.com OR site:b.org)';
    expect(await res.json()).toEqual({
      object: 'search',
      results: [
        { title: 'Brave 1', url: 'https://brave.example/1', snippet, date: '2025-07-31', last_updated: '2024-10-27' },
        { title: 'Brave 2', url: 'https://brave.example/2', snippet, date: '2025-07-31', last_updated: '2024-10-27' },
      ],
    });
    expect(Number(res.headers.get('x-litellm-response-cost') ?? 0)).toBe(0);
    const news = await search('/search/brave', { query: 'edge', result_filter: 'news' }, TEST_MASTER_KEY);
    expect(await news.json()).toEqual({ object: 'search', results: [{ title: 'Brave news', url: 'https://brave.example/news', snippet: 'News', date: '2025-07-30' }] });
    expect(fake.requests.map((r) => [r.headers['x-subscription-token'], r.body])).toEqual([
      [SEARCH_KEYS.brave, { q: '(edge) AND (site:a.com OR site:b.org)', include_fetch_metadata: 'true', count: '2', country: 'US', safesearch: 'strict' }],
      [SEARCH_KEYS.brave, { q: 'edge', include_fetch_metadata: 'true', result_filter: 'news' }],
    ]);
  });
});
