import { describe, expect, it } from 'vitest';
import type { Caller } from '../worker/auth/authenticate.ts';
import { validateConfig } from '../worker/config/validate.ts';
import { DEFAULT_TEAM_ROUTES, jwtToken } from '../worker/auth/jwt-identity.ts';
import { routeAllowed } from '../worker/auth/routes.ts';
import { userSearchGrant } from '../worker/search/user-grant.ts';
import { searchToolRefusal } from '../worker/search/access.ts';
import { SEARCH_PROVIDER_WIRES } from '../worker/search/providers.ts';

/**
 * The Search API's pure pieces, without a stack: config.yaml `search_tools` checks, search_tool_deny_by_default's
 * access rules, the search routes in openai_routes and each provider's price of what it is sent.
 */

type Json = Record<string, any>;

describe('config.yaml search_tools', () => {
  const check = (tools: unknown) => validateConfig({ search_tools: tools }, {});

  it('names the supported providers for one it does not know, and a duplicate name', () => {
    const unknown = check([{ search_tool_name: 'b', litellm_params: { search_provider: 'duckduckgo', api_key: 'ddg-secret-1234' } }]);
    expect(unknown.ok).toBe(false);
    const errors = (unknown as { errors: string[] }).errors.join('\n');
    expect(errors).toContain('search_tools[0].litellm_params.search_provider: search_provider "duckduckgo" is not supported: expected one of tavily, perplexity, exa_ai, brave, parallel_ai');
    expect(errors).not.toContain('ddg-secret-1234');
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
    // A count that is not a whole number is refused, naming the field, rather than priced as some tier.
    expect(() => price('exa_ai', { query: 'q', numResults: '100' })).toThrow('numResults must be a whole number');
    expect(() => price('exa_ai', { query: 'q', numResults: 2.5 })).toThrow('numResults must be a whole number');
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
