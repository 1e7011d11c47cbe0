/**
 * Fake web search providers on loopback, speaking their documented wire formats: Tavily's `POST /search`
 * (Bearer key, `results[].content`, errors as `{detail:{error}}`), Perplexity's `POST /search` (Bearer key,
 * `results[].snippet/date/last_updated`, errors as `{error:{message,type,code}}`) and Exa's `POST /search`
 * (`x-api-key`, `results[].text/publishedDate`) and Brave's `GET /res/v1/web/search` (`X-Subscription-Token`, the
 * request in the query, results in sections). Each lives under its own prefix (`/tavily`, `/perplexity`, `/exa`,
 * `/brave`), checks its key, records every request (a GET's query as its body), and can be told to fail the next one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const SEARCH_KEYS = { tavily: 'tvly-test-secret-0001', perplexity: 'pplx-test-secret-0002', exa: 'exa-test-secret-0003', brave: 'brave-test-secret-0004' } as const;
type Provider = keyof typeof SEARCH_KEYS;

export interface SearchRequestSeen {
  provider: Provider;
  path: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

export interface FakeSearch {
  url: string;
  requests: SearchRequestSeen[];
  /** The next request (to any provider) is answered with this status and body instead. */
  failNext(status: number, body: unknown): void;
  reset(): void;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const read = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => { text += chunk; });
  req.on('end', () => resolve(text));
});

/** The key a provider was sent, where that provider takes it. */
const presented = (provider: Provider, headers: Record<string, string>) =>
  provider === 'exa' ? headers['x-api-key'] : provider === 'brave' ? headers['x-subscription-token'] : headers.authorization?.replace(/^Bearer /, '');

function refusal(provider: Provider, key: string | undefined): unknown {
  if (provider === 'tavily') return { detail: { error: `Unauthorized: invalid API key ${key ?? ''}` } };
  if (provider === 'perplexity') return { error: { message: 'Invalid API key provided', type: 'invalid_api_key', code: 401 } };
  if (provider === 'brave') return { type: 'ErrorResponse', error: { status: 401, code: 'SUBSCRIPTION_TOKEN_INVALID', detail: 'The provided subscription token is invalid.' } };
  return { error: 'Invalid API key' };
}

function answer(provider: Provider, body: Record<string, any>): unknown {
  const query = Array.isArray(body.query) ? body.query.join(' | ') : String(body.query);
  if (provider === 'tavily') {
    const n = body.max_results ?? 5;
    return {
      query, follow_up_questions: null, answer: null, images: [], response_time: '0.42',
      results: Array.from({ length: n }, (_, i) => ({ title: `Tavily ${i + 1}: ${query}`, url: `https://tavily.example/${i + 1}`, content: `About ${query} (${i + 1})`, score: 0.9 - i / 10, raw_content: null })),
    };
  }
  if (provider === 'perplexity') {
    const n = body.max_results ?? 10;
    return {
      id: 'search-1',
      results: Array.from({ length: n }, (_, i) => ({
        title: `Perplexity ${i + 1}`, url: `https://pplx.example/${i + 1}`, snippet: `Snippet on ${query}`, date: '2026-10-01', last_updated: i === 0 ? '2026-11-01' : null,
      })),
    };
  }
  if (provider === 'brave') {
    const n = Number(body.count ?? 20);
    return {
      type: 'search', query: { original: body.q },
      web: { type: 'search', results: Array.from({ length: n }, (_, i) => ({ title: `Brave ${i + 1}`, url: `https://brave.example/${i + 1}`, description: `On ${body.q}`, page_age: '2025-07-31T14:02:11', fetched_content_timestamp: 1730000000 })) },
      news: { type: 'news', results: [{ title: 'Brave news', url: 'https://brave.example/news', description: 'News', age: 'July 30, 2025' }] },
    };
  }
  const n = body.numResults ?? 10;
  return {
    requestId: 'exa-1', resolvedSearchType: 'neural', costDollars: { total: 0.005 },
    results: Array.from({ length: n }, (_, i) => ({ id: `https://exa.example/${i + 1}`, title: `Exa ${i + 1}`, url: `https://exa.example/${i + 1}`, publishedDate: '2026-09-30T00:00:00.000Z', author: null, text: `Text on ${query}` })),
  };
}

export async function startFakeSearch(): Promise<FakeSearch> {
  const requests: SearchRequestSeen[] = [];
  let failure: { status: number; body: unknown } | undefined;
  const server = createServer(async (req, res) => {
    const raw = await read(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const match = /^\/(?:(tavily|perplexity|exa)\/search|(brave)\/res\/v1\/web\/search)$/.exec(path);
    const provider = (match?.[1] ?? match?.[2]) as Provider | undefined;
    if (!provider || req.method !== (provider === 'brave' ? 'GET' : 'POST')) return send(res, 404, { error: 'not found' });
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
    let body: Record<string, any>;
    try {
      body = provider === 'brave' ? Object.fromEntries(url.searchParams) : JSON.parse(raw);
    } catch {
      return send(res, 400, { error: 'invalid JSON' });
    }
    requests.push({ provider, path, headers, body });
    if (failure) {
      const { status, body: failed } = failure;
      failure = undefined;
      return send(res, status, failed);
    }
    const key = presented(provider, headers);
    if (key !== SEARCH_KEYS[provider]) return send(res, 401, refusal(provider, key));
    if (provider !== 'brave' && typeof body.query !== 'string' && !Array.isArray(body.query)) return send(res, 400, { error: 'query is required' });
    return send(res, 200, answer(provider, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, body) {
      failure = { status, body };
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
