import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../worker/auth/authenticate.ts';
import { validateConfig } from '../worker/config/validate.ts';
import { DEFAULT_TEAM_ROUTES, jwtToken } from '../worker/auth/jwt-identity.ts';
import { routeAllowed } from '../worker/auth/routes.ts';
import type { TollgateConfig } from '../worker/config/schema.ts';
import { userSearchGrant } from '../worker/search/user-grant.ts';
import { searchToolRefusal } from '../worker/search/access.ts';
import { SEARCH_PROVIDER_WIRES } from '../worker/search/providers.ts';
import { type FakeSearch, SEARCH_KEYS, startFakeSearch } from './fakes/search-providers.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's Search API (`/v1/search/{search_tool_name}`, `/search`, ...) over config.yaml's `search_tools`:
 * Tavily, Perplexity, Exa and Brave spoken in their own wire formats, a virtual key's limits, budget and
 * `object_permission.search_tools` applied, each search priced and logged (`call_type: asearch`).
 */

let fake: FakeSearch;
let stack: TestStack;
const WRONG_KEY = 'tvly-wrong-key-9999';

beforeAll(async () => {
  fake = await startFakeSearch();
  stack = await startTestStack({
    env: { TAVILY_TEST_KEY: SEARCH_KEYS.tavily },
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-0001}
search_tools:
  - search_tool_name: web
    litellm_params: {search_provider: tavily, api_key: os.environ/TAVILY_TEST_KEY, api_base: "${fake.url}/tavily"}
    search_tool_info: {description: Tavily web search}
  - search_tool_name: pplx
    litellm_params: {search_provider: perplexity, api_key: ${SEARCH_KEYS.perplexity}, api_base: "${fake.url}/perplexity/search"}
  - search_tool_name: exa
    litellm_params: {search_provider: exa_ai, api_key: ${SEARCH_KEYS.exa}, api_base: "${fake.url}/exa", input_cost_per_query: 0.01}
  - search_tool_name: stale-key
    litellm_params: {search_provider: tavily, api_key: ${WRONG_KEY}, api_base: "${fake.url}/tavily"}
  - search_tool_name: brave
    litellm_params: {search_provider: brave, api_key: ${SEARCH_KEYS.brave}, api_base: "${fake.url}/brave/res/v1/web/search"}
  - search_tool_name: exa-list
    litellm_params: {search_provider: exa_ai, api_key: ${SEARCH_KEYS.exa}, api_base: "${fake.url}/exa"}
  - search_tool_name: no-credential
    litellm_params: {search_provider: exa_ai, api_base: "${fake.url}/exa"}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

type Json = Record<string, any>;

async function admin(path: string, body: Json): Promise<Json> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

const generateKey = async (body: Json = {}) => (await admin('/key/generate', body)).key as string;

const search = (path: string, body: unknown, key: string | null) => fetch(`${stack.url}${path}`, {
  method: 'POST', headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' }, body: JSON.stringify(body),
});

const keySpend = async (key: string) => Number((await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]))[0]?.spend);

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

describe('who may search', () => {
  it('holds a key to its object_permission.search_tools and its team\'s, before any provider is called', async () => {
    const narrow = await generateKey({ object_permission: { search_tools: ['pplx'] } });
    const refused = await search('/v1/search/web', { query: 'q' }, narrow);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { message: 'Key not allowed to access search tool: web', type: 'key_search_tool_access_denied', param: 'search_tool_name', code: '403' } });
    expect((await search('/v1/search/pplx', { query: 'q', max_results: 1 }, narrow)).status).toBe(200);

    await admin('/team/new', { team_id: 'search-team', object_permission: { search_tools: ['exa'] } });
    const member = await generateKey({ team_id: 'search-team' });
    const byTeam = await search('/v1/search/pplx', { query: 'q' }, member);
    expect(byTeam.status).toBe(403);
    expect(((await byTeam.json()) as Json).error.type).toBe('team_search_tool_access_denied');
    expect(fake.requests.map((r) => r.provider)).toEqual(['perplexity']);

    const listed = await fetch(`${stack.url}/v1/search/tools`, { headers: { authorization: `Bearer ${narrow}` } });
    expect(await listed.json()).toEqual({ object: 'list', data: [{ search_tool_name: 'pplx', search_provider: 'perplexity' }] });
    const all = await fetch(`${stack.url}/search/tools`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const text = await all.text();
    expect((JSON.parse(text) as Json).data.map((t: Json) => t.search_tool_name)).toEqual(['web', 'pplx', 'exa', 'stale-key', 'brave', 'exa-list', 'no-credential']);
    expect(text).not.toContain(SEARCH_KEYS.exa);
  });

  it('lets a key held to openai_routes search and list the tools (LiteLLM lists /search there), and not one held to anthropic_routes', async () => {
    const openai = await generateKey({ allowed_routes: ['openai_routes'] });
    for (const path of ['/v1/search/pplx', '/search/pplx']) expect((await search(path, { query: 'q', max_results: 1 }, openai)).status).toBe(200);
    expect((await search('/v1/search', { search_tool_name: 'pplx', query: 'q', max_results: 1 }, openai)).status).toBe(200);
    const listed = await fetch(`${stack.url}/v1/search/tools`, { headers: { authorization: `Bearer ${openai}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as Json).data.map((t: Json) => t.search_tool_name)).toContain('pplx');
    const anthropic = await generateKey({ allowed_routes: ['anthropic_routes'] });
    const refused = await search('/v1/search/pplx', { query: 'q' }, anthropic);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).error.message).toContain('Virtual key is not allowed to call this route');
    expect(fake.requests).toHaveLength(3);
  });

  it('refuses a key whose budget the searches have spent, as a model call is', async () => {
    const key = await generateKey({ max_budget: 0.005 });
    const first = await search('/v1/search/pplx', { query: 'q', max_results: 1 }, key);
    expect(first.status).toBe(200);
    await eventually(() => spendLogRow(stack.db.url, first.headers.get('x-litellm-call-id') ?? ''));
    const over = await search('/v1/search/pplx', { query: 'q', max_results: 1 }, key);
    expect(((await over.json()) as Json).error.type).toBe('budget_exceeded');
    expect(fake.requests).toHaveLength(1);
  });
});

describe('failures', () => {
  it('answers a provider\'s 5xx as a 502 in the error envelope, logged as a failure at no cost', async () => {
    const key = await generateKey();
    fake.failNext(503, { detail: { error: 'upstream overloaded' } });
    const res = await search('/v1/search/web', { query: 'q' }, key);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { message: 'tavily failed the search (HTTP 503): upstream overloaded', type: 'api_error', param: null, code: '502' } });
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'asearch', status: 'failure', spend: 0 });
  });

  it('answers a provider refusing the tool\'s key as a 401 that never shows the key', async () => {
    const res = await search('/v1/search/stale-key', { query: 'q' }, TEST_MASTER_KEY);
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'authentication_error', code: '401' } });
    expect(JSON.parse(text).error.message).toContain('tavily refused the credential of search tool stale-key (HTTP 401)');
    expect(text).not.toContain(WRONG_KEY);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${WRONG_KEY}`);
  });

  it('refuses bad input, unknown tools and missing keys with a 4xx and no provider call', async () => {
    const cases: [string, unknown, string | null, number, string | null][] = [
      ['/v1/search/web', { max_results: 2 }, TEST_MASTER_KEY, 400, 'query'],
      ['/v1/search/web', { query: 'q', max_results: 0 }, TEST_MASTER_KEY, 400, 'max_results'],
      ['/v1/search/nope', { query: 'q' }, TEST_MASTER_KEY, 400, 'search_tool_name'],
      ['/v1/search', { query: 'q' }, TEST_MASTER_KEY, 400, 'search_tool_name'],
      ['/v1/search/web', { query: 'q' }, null, 401, 'key'],
      ['/v1/search/web', { query: 'q' }, 'sk-not-a-real-key-0000', 401, null],
      // A tool's existence and its credential show only to a known key: an unknown one is refused first.
      ['/v1/search/nope', { query: 'q' }, 'sk-not-a-real-key-0000', 401, 'key'],
      ['/v1/search/no-credential', { query: 'q' }, 'sk-not-a-real-key-0000', 401, 'key'],
      // Bad input too: an unknown key gets its 401, not the body's 400.
      ['/v1/search/web', {}, 'sk-not-a-real-key-0000', 401, null],
      ['/v1/search/web', { query: 'q', max_results: 0 }, 'sk-not-a-real-key-0000', 401, null],
    ];
    for (const [path, body, key, status, param] of cases) {
      const res = await search(path, body, key);
      expect([path, res.status]).toEqual([path, status]);
      const { error } = (await res.json()) as Json;
      expect(error.code).toBe(String(status));
      if (param) expect(error.param).toBe(param);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a tool without a credential with a 500 naming where to set it, to a known key only, and releases its admission', async () => {
    const key = await generateKey({ max_parallel_requests: 1 });
    for (let i = 0; i < 2; i += 1) {
      const res = await search('/v1/search/no-credential', { query: 'q' }, key);
      expect(res.status).toBe(500);
      expect(((await res.json()) as Json).error.message).toContain('set its litellm_params.api_key (or EXA_API_KEY)');
    }
    expect((await search('/v1/search/pplx', { query: 'q', max_results: 1 }, key)).status).toBe(200);
  });
});

describe('config.yaml search_tools', () => {
  const check = (tools: unknown) => validateConfig({ search_tools: tools }, {});

  it('names the supported providers for one it does not know, and a duplicate name', () => {
    const unknown = check([{ search_tool_name: 'b', litellm_params: { search_provider: 'google_pse', api_key: 'pse-secret-1234' } }]);
    expect(unknown.ok).toBe(false);
    const errors = (unknown as { errors: string[] }).errors.join('\n');
    expect(errors).toContain('search_tools[0].litellm_params.search_provider: search_provider "google_pse" is not supported: expected one of tavily, perplexity, exa_ai, brave');
    expect(errors).not.toContain('pse-secret-1234');
    const twice = check([{ search_tool_name: 'a', litellm_params: { search_provider: 'tavily' } }, { search_tool_name: 'a', litellm_params: { search_provider: 'exa_ai' } }]);
    expect((twice as { errors: string[] }).errors.join('\n')).toContain('search_tools[1].search_tool_name: a is named twice');
    expect(check([{ search_tool_name: 'ok', litellm_params: { search_provider: 'perplexity', api_key: 'k' } }]).ok).toBe(true);
  });
});

describe('general_settings.search_tool_deny_by_default', () => {
  const permission = (tools: string[] | undefined) => (tools ? { object_permission: { search_tools: tools } } : {});
  const keyOf = (own: string[] | undefined, team?: string[]) => ({
    kind: 'key', token: 'h', policy: { metadata: permission(own), ...(team !== undefined ? { team: { id: 't', metadata: permission(team.length ? team : undefined) } } : {}) },
  }) as unknown as Caller;

  it('makes tools opt-in: a key (and its team) must list the tool; off, a list naming none allows every tool', () => {
    expect(searchToolRefusal(keyOf(undefined), 'web')).toBeUndefined();
    expect(searchToolRefusal(keyOf(undefined), 'web', true)?.type).toBe('key_search_tool_access_denied');
    expect(searchToolRefusal(keyOf(['web']), 'web', true)).toBeUndefined();
    expect(searchToolRefusal(keyOf(['web'], []), 'web', true)?.type).toBe('team_search_tool_access_denied');
    expect(searchToolRefusal(keyOf(['web'], ['web']), 'web', true)).toBeUndefined();
    expect(searchToolRefusal({ kind: 'master', token: 'm' }, 'web', true)).toBeUndefined();
  });

  it('holds a JWT caller to its team\'s grant alone, and a team-less one to its user\'s', () => {
    const jwt = (own: string[] | undefined, team?: string[]) => ({ ...keyOf(own, team), token: jwtToken({ teamId: team ? 't' : null, userId: 'u', orgId: null }) }) as Caller;
    expect(searchToolRefusal(jwt(undefined, ['web']), 'web', true)).toBeUndefined();
    expect(searchToolRefusal(jwt(undefined, ['web']), 'pplx', true)?.type).toBe('team_search_tool_access_denied');
    expect(searchToolRefusal(jwt(undefined, []), 'web', true)?.type).toBe('team_search_tool_access_denied');
    expect(searchToolRefusal(jwt(['web']), 'web', true)).toBeUndefined();
    expect(searchToolRefusal(jwt(undefined), 'web', true)?.type).toBe('key_search_tool_access_denied');
    expect(searchToolRefusal(jwt(undefined), 'web')).toBeUndefined();
  });

  it('gives a team-less JWT caller\'s stand-in policy its user\'s search_tools alone (worker/limits/jwt-policy.ts uses it)', async () => {
    const pool = {
      query: async (sql: string, params: unknown[]) => ({
        rows: sql.includes('SELECT metadata') && params[0] === 'u' ? [{ metadata: { object_permission: { search_tools: ['web'], mcp_servers: ['s'] } } }] : [],
      }),
    } as never;
    expect(await userSearchGrant(pool, 'u')).toEqual({ object_permission: { search_tools: ['web'] } });
    expect(await userSearchGrant(pool, 'nobody')).toEqual({});
  });
});

describe('search routes and prices', () => {
  it('puts the Search API in openai_routes, so a JWT caller\'s default routes reach it', () => {
    for (const path of ['/search', '/v1/search', '/search/web', '/v1/search/web', '/v1/search/tools']) {
      expect([path, routeAllowed(['openai_routes'], path), routeAllowed(DEFAULT_TEAM_ROUTES, path)]).toEqual([path, true, true]);
    }
    expect(routeAllowed(['openai_routes'], '/v1/search/web/extra')).toBe(false);
  });

  it('prices what is sent: Exa\'s own numResults and Tavily\'s search_depth', () => {
    const price = (provider: 'exa_ai' | 'tavily', request: Json) => {
      const wire = SEARCH_PROVIDER_WIRES[provider];
      return wire.price(wire.body(request as never));
    };
    expect(price('exa_ai', { query: 'q', max_results: 1, numResults: 100 })).toBe(0.025);
    expect(price('exa_ai', { query: 'q', max_results: 100 })).toBe(0.025);
    expect(price('exa_ai', { query: 'q', numResults: '100' })).toBe(0.025);
    expect(price('exa_ai', { query: 'q', numResults: 'many' })).toBe(0.025);
    expect(price('exa_ai', { query: 'q', max_results: 50, numResults: 5 })).toBe(0.005);
    expect(price('exa_ai', { query: 'q' })).toBe(0.005);
    expect(price('tavily', { query: 'q', search_depth: 'advanced' })).toBe(0.016);
    expect(price('tavily', { query: 'q' })).toBe(0.008);
    // auto_parameters lets Tavily choose an advanced search: priced as one unless the client held it to basic.
    expect(price('tavily', { query: 'q', auto_parameters: true })).toBe(0.016);
    expect(price('tavily', { query: 'q', auto_parameters: true, search_depth: 'basic' })).toBe(0.008);
    expect(price('tavily', { query: 'q', auto_parameters: 'true' })).toBe(0.016);
    expect(price('tavily', { query: 'q', auto_parameters: false })).toBe(0.008);
  });
});
