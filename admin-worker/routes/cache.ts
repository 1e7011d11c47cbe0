import { Hono } from 'hono';
import { z } from 'zod';
import { cacheSettings } from '../../worker/cache/settings.ts';
import { RedisCache } from '../../worker/cache/store.ts';
import { GatewayError } from '../../worker/errors.ts';
import { gatewayState } from '../../worker/state.ts';
import { requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { parseBody } from '../lib/validation.ts';

/** LiteLLM's cache admin routes: `/cache/ping`, `/cache/delete`, `/cache/flushall` (proxy admins). */
export const cacheRoutes = new Hono<AdminBindings>();

async function redisOf(c: AdminContext): Promise<{ redis?: RedisCache; type: string | null }> {
  const { config } = await gatewayState(c.env);
  const settings = cacheSettings(config, c.env);
  if (!settings) return { type: null };
  if (settings.type !== 'redis' || !settings.url || !settings.token) return { type: settings.type };
  return { type: 'redis', redis: new RedisCache(settings.url, settings.token) };
}

function noSharedCache(type: string | null): GatewayError {
  return new GatewayError(
    type === null
      ? 'Cache is not enabled (litellm_settings.cache)'
      : 'The local cache lives in each gateway isolate and cannot be reached from here; use type: redis for a shared cache',
    { status: 400, type: 'cache_ping_error' },
  );
}

cacheRoutes.get('/cache/ping', async (c) => {
  requireProxyAdmin(c, 'ping the cache');
  const { redis, type } = await redisOf(c);
  if (!redis) {
    if (type === 'local') return c.json({ status: 'healthy', cache_type: 'local', detail: 'a bounded LRU in each gateway isolate' });
    throw noSharedCache(type);
  }
  try {
    const pong = await redis.raw().ping();
    await redis.raw().set('tollgate:ping', String(Date.now()), { ex: 60 });
    return c.json({ status: 'healthy', cache_type: 'redis', ping_response: pong === 'PONG', set_cache_response: 'success' });
  } catch (err) {
    throw new GatewayError(`Redis cache ping failed: ${err instanceof Error ? err.message : String(err)}`, { status: 503, type: 'cache_ping_error' });
  }
});

const deleteBody = z.object({ keys: z.array(z.string().min(1)).min(1, 'keys must not be empty') });
describeRoute({ method: 'post', path: '/cache/delete', summary: 'Delete cache entries by key (x-litellm-cache-key)', tag: 'cache', body: deleteBody });

cacheRoutes.post('/cache/delete', async (c) => {
  requireProxyAdmin(c, 'delete cache entries');
  const { keys } = await parseBody(c, deleteBody);
  const { redis, type } = await redisOf(c);
  if (!redis) throw noSharedCache(type);
  const deleted = await redis.raw().del(...keys);
  return c.json({ status: 'success', deleted });
});

cacheRoutes.post('/cache/flushall', async (c) => {
  requireProxyAdmin(c, 'flush the cache');
  const { redis, type } = await redisOf(c);
  if (!redis) throw noSharedCache(type);
  // Only Tollgate's own entries: the Redis may be shared with other applications.
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.raw().scan(cursor, { match: '*tollgate:*', count: 500 });
    cursor = String(next);
    const ours = keys.filter((k) => /(^|:)tollgate:[0-9a-f]{64}$/.test(k));
    if (ours.length) deleted += await redis.raw().del(...ours);
  } while (cursor !== '0');
  return c.json({ status: 'success', deleted });
});
describeRoute({ method: 'get', path: '/cache/ping', summary: 'Check the response cache', tag: 'cache' });
describeRoute({ method: 'post', path: '/cache/flushall', summary: "Delete every cache entry of Tollgate's", tag: 'cache' });
