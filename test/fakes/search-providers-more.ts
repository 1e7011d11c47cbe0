/**
 * More fake web search providers on loopback, each speaking its documented wire format under its own prefix:
 * Parallel's `POST /parallel/v1/search` (`x-api-key`, `results[].excerpts/publish_date`), Google PSE's
 * `GET /google/customsearch/v1` (`key` and `cx` in the query, `items[].link`), Firecrawl's `POST /firecrawl/v2/search`
 * (Bearer, `data.web[]`/`data.news[]`), a SearXNG instance's `GET /searxng/search?format=json` (Bearer), Serper's
 * `POST /serper/search` (`X-API-KEY`, `organic[]`), Linkup's `POST /linkup/v1/search` (Bearer, `results[].name`),
 * SearchAPI's `GET /searchapi/api/v1/search` (`api_key` in the query, `organic_results[]`) and DataForSEO's
 * `POST /dataforseo/v3/serp/google/organic/live/advanced` (Basic, `tasks[0].result[0].items[]`). Each checks its
 * credential, records every request (a GET's query as its body, the credential parameters Google PSE and
 * SearchAPI take there included), and can be told to answer the next one otherwise (any status, a redirect's
 * location among its headers, and a body built from the request's URL).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const MORE_SEARCH_KEYS = {
  parallel: 'par-test-secret-0101', google: 'AIzaTestSecret0102', firecrawl: 'fc-test-secret-0103', searxng: 'sx-test-secret-0104',
  serper: 'serper-test-secret-0105', linkup: 'lk-test-secret-0106', searchapi: 'sapi-test-secret-0107', dataforseo: 'dfs-login@example.com:dfs-pass-0108',
} as const;
export const GOOGLE_ENGINE_ID = 'cx-test-engine-77';
export type MoreProvider = keyof typeof MORE_SEARCH_KEYS;

const ROUTES: Record<string, { provider: MoreProvider; method: 'GET' | 'POST' }> = {
  '/parallel/v1/search': { provider: 'parallel', method: 'POST' },
  '/google/customsearch/v1': { provider: 'google', method: 'GET' },
  '/firecrawl/v2/search': { provider: 'firecrawl', method: 'POST' },
  '/searxng/search': { provider: 'searxng', method: 'GET' },
  '/serper/search': { provider: 'serper', method: 'POST' },
  '/linkup/v1/search': { provider: 'linkup', method: 'POST' },
  '/searchapi/api/v1/search': { provider: 'searchapi', method: 'GET' },
  '/dataforseo/v3/serp/google/organic/live/advanced': { provider: 'dataforseo', method: 'POST' },
};

export interface MoreSearchRequestSeen {
  provider: MoreProvider;
  path: string;
  url: string;
  headers: Record<string, string>;
  body: any;
}

export interface FakeMoreSearch {
  url: string;
  requests: MoreSearchRequestSeen[];
  /** The next request is answered with this status, body (or one made from the request's URL) and headers instead. */
  failNext(status: number, body: unknown | ((url: string) => unknown), headers?: Record<string, string>): void;
  reset(): void;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const read = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => { text += chunk; });
  req.on('end', () => resolve(text));
});

const bearer = (headers: Record<string, string>) => headers.authorization?.replace(/^Bearer /, '');

/** The credential a provider was sent, where that provider takes it. */
function presented(provider: MoreProvider, headers: Record<string, string>, query: URLSearchParams): string | undefined {
  if (provider === 'parallel') return headers['x-api-key'];
  if (provider === 'serper') return headers['x-api-key'];
  if (provider === 'google') return query.get('cx') === GOOGLE_ENGINE_ID ? query.get('key') ?? undefined : 'wrong-engine';
  if (provider === 'searchapi') return query.get('api_key') ?? undefined;
  if (provider === 'dataforseo') {
    const basic = headers.authorization?.replace(/^Basic /, '');
    return basic ? Buffer.from(basic, 'base64').toString('utf8') : undefined;
  }
  return bearer(headers);
}

/** Each provider's own refusal of a credential. */
function refusal(provider: MoreProvider): { status: number; body: unknown } {
  if (provider === 'google') {
    return { status: 400, body: { error: {
      code: 400, message: 'API key not valid. Please pass a valid API key.', errors: [{ message: 'API key not valid. Please pass a valid API key.', domain: 'global', reason: 'badRequest' }],
      status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'customsearch.googleapis.com' } }],
    } } };
  }
  if (provider === 'parallel') return { status: 401, body: { type: 'error', error: { ref_id: 'ref-1', message: 'Invalid API key' } } };
  if (provider === 'serper') return { status: 403, body: { message: 'Unauthorized.', statusCode: 403 } };
  if (provider === 'linkup') return { status: 401, body: { statusCode: 401, error: { code: 'UNAUTHORIZED', message: 'Unauthorized action', details: [] } } };
  if (provider === 'dataforseo') return { status: 401, body: { status_code: 40100, status_message: 'You are not authorized to access this resource.' } };
  if (provider === 'firecrawl') return { status: 401, body: { success: false, error: 'Unauthorized: Invalid token' } };
  return { status: 401, body: { error: 'Invalid API key.' } };
}

const n = (v: unknown, fallback: number) => (v === undefined || v === null ? fallback : Number(v));

function answer(provider: MoreProvider, body: any): unknown {
  if (provider === 'parallel') {
    const count = Math.min(n(body.advanced_settings?.max_results, 10), 3);
    return {
      search_id: 'search_1', usage: [{ name: 'sku_search', count: 1 }],
      results: Array.from({ length: count }, (_, i) => ({ url: `https://parallel.example/${i + 1}`, title: `Parallel ${i + 1}`, publish_date: '2026-08-01', excerpts: [`First on ${body.search_queries.join(' | ')}`, 'second'] })),
    };
  }
  if (provider === 'google') {
    const count = n(body.num, 10);
    return { kind: 'customsearch#search', items: Array.from({ length: count }, (_, i) => ({ kind: 'customsearch#result', title: `Google ${i + 1}`, link: `https://google.example/${i + 1}`, snippet: `On ${body.q}` })) };
  }
  if (provider === 'firecrawl') {
    const count = n(body.limit, 5);
    return {
      success: true,
      data: {
        web: Array.from({ length: count }, (_, i) => ({ url: `https://firecrawl.example/${i + 1}`, title: `Firecrawl ${i + 1}`, description: `About ${body.query}`, ...(i === 0 ? { markdown: `# Page on ${body.query}` } : {}) })),
        ...(Array.isArray(body.sources) && body.sources.includes('news') ? { news: [{ title: 'Firecrawl news', url: 'https://firecrawl.example/news', snippet: 'News', date: '3 days ago' }] } : {}),
      },
    };
  }
  if (provider === 'searxng') {
    return {
      query: body.q, number_of_results: 2,
      results: [
        { title: 'SearX 1', url: 'https://searx.example/1', content: `On ${body.q}`, engine: 'duckduckgo', publishedDate: '2026-07-01T00:00:00' },
        { title: 'SearX 2', url: 'https://searx.example/2', content: 'Second', engine: 'bing', publishedDate: null, pubdate: '2026-06-30' },
      ],
    };
  }
  if (provider === 'serper') {
    const count = n(body.num, 10);
    return { searchParameters: { q: body.q, type: 'search' }, organic: Array.from({ length: count }, (_, i) => ({ title: `Serper ${i + 1}`, link: `https://serper.example/${i + 1}`, snippet: `On ${body.q}`, position: i + 1, ...(i === 0 ? { date: 'Aug 1, 2026' } : {}) })) };
  }
  if (provider === 'linkup') {
    return {
      results: [
        { type: 'text', name: 'Linkup 1', url: 'https://linkup.example/1', content: `On ${body.q}` },
        { type: 'image', url: 'https://linkup.example/img.png' },
      ],
    };
  }
  if (provider === 'searchapi') {
    const count = n(body.num, 10);
    return { search_metadata: { id: 'search_1', status: 'Success' }, organic_results: Array.from({ length: count }, (_, i) => ({ position: i + 1, title: `SearchAPI ${i + 1}`, link: `https://searchapi.example/${i + 1}`, snippet: `On ${body.q}`, ...(i === 0 ? { date: 'Jul 30, 2026' } : {}) })) };
  }
  const [task] = body as any[];
  return {
    version: '0.1.20250101', status_code: 20000, status_message: 'Ok.',
    tasks: [{
      id: 'task-1', status_code: 20000, status_message: 'Ok.', data: task,
      result: [{ keyword: task.keyword, items: [
        { type: 'featured_snippet', title: 'Featured', url: 'https://dfs.example/featured', description: 'Not organic' },
        { type: 'organic', rank_absolute: 2, title: 'DataForSEO 1', url: 'https://dfs.example/1', description: `On ${task.keyword}` },
      ] }],
    }],
  };
}

export async function startFakeMoreSearch(): Promise<FakeMoreSearch> {
  const requests: MoreSearchRequestSeen[] = [];
  let failure: { status: number; body: unknown | ((url: string) => unknown); headers: Record<string, string> } | undefined;
  const server = createServer(async (req, res) => {
    const raw = await read(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = ROUTES[url.pathname];
    if (!route || req.method !== route.method) return send(res, 404, { error: 'not found' });
    const { provider } = route;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
    let body: any;
    try {
      body = route.method === 'GET' ? Object.fromEntries(url.searchParams) : JSON.parse(raw);
    } catch {
      return send(res, 400, { error: 'invalid JSON' });
    }
    requests.push({ provider, path: url.pathname, url: req.url ?? '', headers, body });
    if (failure) {
      const { status, body: failed, headers: extra } = failure;
      failure = undefined;
      return send(res, status, typeof failed === 'function' ? (failed as (u: string) => unknown)(req.url ?? '') : failed, extra);
    }
    if (presented(provider, headers, url.searchParams) !== MORE_SEARCH_KEYS[provider]) {
      const { status, body: refused } = refusal(provider);
      return send(res, status, refused);
    }
    return send(res, 200, answer(provider, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, body, headers = {}) {
      failure = { status, body, headers };
    },
    reset() {
      requests.length = 0;
      failure = undefined;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
