import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/authenticate.ts';
import type { KeyPolicy } from '../auth/key-policy.ts';
import { passThroughGrant, passThroughRouteCovered } from './allowed-routes.ts';
import { proxyAdminRouteRefusal } from '../auth/proxy-admin-refusal.ts';

const keyWith = (allowedPassthroughRoutes?: string[], allowedRoutes: string[] = []): Caller => ({
  kind: 'key', token: 'h', policy: { metadata: {}, team: null, allowedRoutes, ...(allowedPassthroughRoutes ? { allowedPassthroughRoutes } : {}) } as unknown as KeyPolicy,
});

describe('allowed_passthrough_routes', () => {
  it('covers a route and the paths under it, not a longer name, and reads * literally (LiteLLM\'s matching)', () => {
    expect(passThroughRouteCovered(['/my-route'], '/my-route')).toBe(true);
    expect(passThroughRouteCovered(['/my-route'], '/my-route/v1/x')).toBe(true);
    expect(passThroughRouteCovered(['/my-route'], '/my-route2')).toBe(false);
    expect(passThroughRouteCovered(['/my-route/*'], '/my-route/v1')).toBe(false);
    expect(passThroughRouteCovered(['/other', '/my-route'], '/my-route/v1')).toBe(true);
  });

  it('lets a key without a list, and the master key, call any config endpoint', () => {
    expect(passThroughGrant(keyWith(), '/bria')).toBe('yes');
    expect(passThroughGrant({ kind: 'master', token: 'm' }, '/bria')).toBe('yes');
  });

  it('holds a key with a list to it: another endpoint needs a proxy admin\'s key, one at an LLM API route does not', () => {
    const key = keyWith(['/my-route']);
    expect(passThroughGrant(key, '/my-route/run')).toBe('yes');
    expect(passThroughGrant(key, '/bria')).toBe('ask-role');
    expect(passThroughGrant(key, '/v1/rerank')).toBe('yes');
  });

  it('lets a key with a list call an endpoint its own allowed_routes name by route or prefix*, not by a group', () => {
    expect(passThroughGrant(keyWith(['/my-route'], ['/bria']), '/bria')).toBe('yes');
    expect(passThroughGrant(keyWith(['/my-route'], ['/bria/*']), '/bria/v1/x')).toBe('yes');
    expect(passThroughGrant(keyWith(['/my-route'], ['/bria']), '/bria/v1/x')).toBe('ask-role');
    // Config endpoints are in llm_api_routes, so a group would let every one through.
    expect(passThroughGrant(keyWith(['/my-route'], ['llm_api_routes', '/other']), '/bria')).toBe('ask-role');
  });

  it('refuses with LiteLLM\'s 401 and words', () => {
    const err = proxyAdminRouteRefusal('/bria');
    expect(err.status).toBe(401);
    expect(err.type).toBe('auth_error');
    expect(err.message).toBe('Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/bria');
  });
});
