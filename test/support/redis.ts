import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { findRedisServer, startRedisServer } from '../../scripts/lib/redis.ts';
import { startUpstashBridge } from '../../scripts/lib/upstash-bridge.ts';

export interface TestRedis {
  /** `redis://127.0.0.1:PORT` of this test's own redis-server. */
  redisUrl: string;
  /** The Upstash REST bridge in front of it: UPSTASH_REDIS_REST_URL. */
  restUrl: string;
  /** UPSTASH_REDIS_REST_TOKEN (random). */
  token: string;
  /** `{ UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN }`, to spread into a gateway's env. */
  env: { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string };
  /** A plain client to look at keys (`await t.redis.keys('*')`); reconnects after startRedis(). */
  redis: Redis;
  /** Stops redis-server: the bridge then answers HTTP 500 at once. */
  stopRedis(): Promise<void>;
  /**
   * Starts redis-server again on the same port, empty (restarts it when
   * running); resolves once the bridge and `redis` are connected again.
   */
  startRedis(): Promise<void>;
  close(): Promise<void>;
}

/**
 * True when the suite has Redis (redis-server is installed). Guard Redis
 * tests with `describe.skipIf(!hasRedis())`; global setup says loudly why
 * they skip, and CI (TOLLGATE_REQUIRE_REDIS=1) fails instead.
 */
export function hasRedis(): boolean {
  return Boolean(inject('redisUrl'));
}

/**
 * A redis-server of this test's own (about 20 ms to start) with an Upstash
 * REST bridge in front, so tests never see each other's keys and can stop
 * and restart Redis mid-run without disturbing other files.
 */
export async function freshRedis(): Promise<TestRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error('redis-server is not installed: guard this test with describe.skipIf(!hasRedis())');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
  const server = await startRedisServer(dir, { bin });
  const token = randomBytes(16).toString('hex');
  const bridge = await startUpstashBridge({ redisUrl: server.url, token }).catch(async (err) => {
    await server.stop();
    throw err;
  });
  const redis = new Redis(server.url, {
    maxRetriesPerRequest: 2,
    retryStrategy: (times: number) => Math.min(times * 20, 100),
  });
  redis.on('error', () => undefined); // reconnects by itself; errors surface on the commands
  await redis.ping();

  return {
    redisUrl: server.url,
    restUrl: bridge.url,
    token,
    env: { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: token },
    redis,
    stopRedis: () => server.stop(),
    startRedis: async () => {
      await server.restart();
      await Promise.all([waitForBridge(bridge.url, token), redis.ping()]);
    },
    close: async () => {
      redis.disconnect();
      await bridge.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the bridge at `restUrl` answers PING through to Redis. */
export async function waitForBridge(restUrl: string, token: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(restUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: '["PING"]',
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return;
      last = `HTTP ${res.status} ${await res.text()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Upstash bridge ${restUrl} did not reach Redis within ${timeoutMs} ms (${last})`);
}
