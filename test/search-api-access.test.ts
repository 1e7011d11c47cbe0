import { describe, expect, it } from 'vitest';
import { SEARCH_KEYS } from './fakes/search-providers.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { admin, fake, generateKey, type Json, search, stack, useSearchStack } from './support/search-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * Who may use the Search API: a virtual key's (and its team's) `object_permission.search_tools`, its allowed_routes
 * and its budget, applied before any provider is called.
 */

useSearchStack();

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
