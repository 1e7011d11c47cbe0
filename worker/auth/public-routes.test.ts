import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayError } from '../errors.ts';
import { authenticate } from './authenticate.ts';
import { allowedIps } from './client-ip.ts';
import type { KeyPolicy, KeyStore } from './key-policy.ts';
import { isPublicCaller, publicRouteRefusal, publicRouteSet, usePublicRoutes } from './public-routes.ts';
import { hashKey } from './secrets.ts';

/** A store that records each lookup, so a test can see that a request without a key reads no key. */
function recordingStore(policy: KeyPolicy | null = null): KeyStore & { lookups: string[] } {
  const lookups: string[] = [];
  return { lookups, lookup: async (token) => (lookups.push(token), policy) };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err as GatewayError);

afterEach(() => usePublicRoutes(new Set()));

describe('authenticate on a public route', () => {
  it('answers a request without a key as the public caller: every model, that route alone, no user, team or admin', async () => {
    usePublicRoutes(publicRouteSet(['/v1/models', 'LiteLLMRoutes.public_routes']));
    const keys = recordingStore();
    const caller = await authenticate(new Headers(), { masterKeyHash: await hashKey('sk-master'), path: '/v1/models', keys });
    expect(isPublicCaller(caller)).toBe(true);
    expect(caller.kind === 'key' && caller.policy).toMatchObject({ models: [], allowedRoutes: ['/v1/models'], userId: null, team: null, organizationId: null });
    expect(keys.lookups).toEqual([]);
  });

  it('refuses a request without a key elsewhere, with the usual 401', async () => {
    usePublicRoutes(publicRouteSet(['/v1/models']));
    for (const path of ['/models', '/v1/chat/completions', '/key/info', undefined]) {
      const err = await failure(authenticate(new Headers(), { masterKeyHash: undefined, path, keys: recordingStore() }));
      expect(err?.status, String(path)).toBe(401);
      expect(err?.message).toBe('Authentication Error, No api key passed in.');
    }
  });

  it('authenticates a request that carries a key as anywhere else: an unknown key is a 401', async () => {
    usePublicRoutes(publicRouteSet(['/v1/models']));
    const keys = recordingStore();
    const err = await failure(authenticate(new Headers({ authorization: 'Bearer sk-never-issued' }), { masterKeyHash: undefined, path: '/v1/models', keys }));
    expect(err?.status).toBe(401);
    expect(err?.type).toBe('token_not_found_in_db');
    expect(keys.lookups).toEqual([await hashKey('sk-never-issued')]);
  });

  it('checks allowed_ips first, for a request without a key too', async () => {
    usePublicRoutes(publicRouteSet(['/v1/models']));
    const allowed = allowedIps(['203.0.113.7'], true);
    const from = (ip: string) => new Headers({ 'x-forwarded-for': ip });
    const err = await failure(authenticate(from('198.51.100.9'), { masterKeyHash: undefined, allowedIps: allowed, path: '/v1/models' }));
    expect(err?.status).toBe(403);
    expect(isPublicCaller(await authenticate(from('203.0.113.7'), { masterKeyHash: undefined, allowedIps: allowed, path: '/v1/models' }))).toBe(true);
  });
});

describe('publicRouteRefusal', () => {
  it('takes the read-only routes and those open already, and refuses model calls, probes, patterns and the rest', () => {
    for (const route of ['/v1/models', '/model/info', '/spend/calculate', '/cost/estimate', 'LiteLLMRoutes.public_routes', '/health/readiness', '/metrics', '/', '/routes', '/test']) {
      expect(publicRouteRefusal(route), route).toBeUndefined();
    }
    for (const route of ['/v1/chat/completions', '/embeddings', '/v1/messages', '/v1/realtime', '/mcp', '/anthropic/v1/messages', '/utils/transform_request']) {
      expect(publicRouteRefusal(route), route).toMatch(/it makes model calls/);
    }
    expect(publicRouteRefusal('/health')).toMatch(/real, paid calls/);
    expect(publicRouteRefusal('/v1/*')).toMatch(/patterns are not taken/);
    for (const route of ['/key/info', '/key/generate', '/spend/logs', '/global/spend', '/credentials']) {
      expect(publicRouteRefusal(route), route).toMatch(/only routes that show no keys, spend or secrets/);
    }
  });

  it('opens only the routes a request without a key may call (those open already need nothing)', () => {
    expect([...publicRouteSet(['LiteLLMRoutes.public_routes', '/metrics', '/v1/models', '/model/info'])]).toEqual(['/v1/models', '/model/info']);
  });
});
