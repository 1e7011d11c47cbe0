import { describe, expect, it } from 'vitest';
import { searchBase } from '../worker/search/credential.ts';
import { searchToolsSchema } from '../worker/search/schema.ts';

/** config.yaml's `search_tools` with the further providers: what LiteLLM accepts (SearXNG's api_base may come from SEARXNG_API_BASE). */

const tool = (litellm_params: Record<string, unknown>) => [{ search_tool_name: 't', litellm_params }];

describe('search_tools of the further providers', () => {
  it('accepts each of LiteLLM\'s provider names, and Google PSE\'s search_engine_id', () => {
    for (const provider of ['parallel_ai', 'google_pse', 'firecrawl', 'serper', 'linkup', 'searchapi', 'dataforseo']) {
      expect(searchToolsSchema.safeParse(tool({ search_provider: provider })).success).toBe(true);
    }
    const parsed = searchToolsSchema.parse(tool({ search_provider: 'google_pse', api_key: 'k', search_engine_id: 'cx-1' }));
    expect(parsed[0]!.litellm_params.search_engine_id).toBe('cx-1');
  });

  it('takes a SearXNG tool without api_base (SEARXNG_API_BASE names the instance), and names the supported providers for an unknown one', () => {
    expect(searchToolsSchema.safeParse(tool({ search_provider: 'searxng' })).success).toBe(true);
    expect(searchToolsSchema.safeParse(tool({ search_provider: 'searxng', api_base: 'ftp://searx.internal' })).success).toBe(false);
    const unknown = searchToolsSchema.safeParse(tool({ search_provider: 'duckduckgo' }));
    expect(unknown.error!.issues[0]!.message).toBe(
      'search_provider "duckduckgo" is not supported: expected one of tavily, perplexity, exa_ai, brave, parallel_ai, google_pse, firecrawl, searxng, serper, linkup, searchapi, dataforseo',
    );
  });

  it('reads a tool\'s base from its api_base, else <PROVIDER>_API_BASE, else the public API; SearXNG without either is a 500 naming both', () => {
    const env = (vars: Record<string, string>) => vars;
    const [searx] = searchToolsSchema.parse(tool({ search_provider: 'searxng' }));
    expect(searchBase(env({ SEARXNG_API_BASE: 'https://searx.internal' }), searx!)).toBe('https://searx.internal');
    expect(() => searchBase(env({}), searx!)).toThrow('Search tool t has no api_base: set its litellm_params.api_base (or SEARXNG_API_BASE)');
    expect(() => searchBase(env({ SEARXNG_API_BASE: 'searx.internal' }), searx!)).toThrow('SEARXNG_API_BASE is not an http(s) URL');
    const [linkup] = searchToolsSchema.parse(tool({ search_provider: 'linkup' }));
    expect(searchBase(env({}), linkup!)).toBe('https://api.linkup.so/v1');
    expect(searchBase(env({ LINKUP_API_BASE: 'https://linkup.proxy/v1' }), linkup!)).toBe('https://linkup.proxy/v1');
    const [own] = searchToolsSchema.parse(tool({ search_provider: 'linkup', api_base: 'https://own.example' }));
    expect(searchBase(env({ LINKUP_API_BASE: 'https://linkup.proxy/v1' }), own!)).toBe('https://own.example');
  });
});
