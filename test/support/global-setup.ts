import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findSystemPostgres, type PostgresServer, startEmbeddedPostgres, startSystemPostgres } from '../../scripts/lib/postgres.ts';
import { findRedisServer, type RedisServer, startRedisServer } from '../../scripts/lib/redis.ts';
import { startUpstashBridge, type UpstashBridge } from '../../scripts/lib/upstash-bridge.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the suite's Postgres (a fresh database per test file is made from it). */
    postgresUrl: string;
    postgresKind: 'postgres' | 'pglite';
    /**
     * `redis://127.0.0.1:PORT` of the suite's redis-server; undefined when
     * redis-server is not installed (tests needing it skip, loudly).
     * Shared by all test files: isolate with `freshRedis()` (test/support/redis.ts).
     */
    redisUrl?: string;
    /** An Upstash REST bridge in front of `redisUrl` (UPSTASH_REDIS_REST_URL / _TOKEN). */
    redisRestUrl?: string;
    redisRestToken?: string;
  }
}

/**
 * One real Postgres for the whole run: Debian's PostgreSQL when installed
 * (CI installs it), else embedded PGlite, said loudly. CI sets
 * TOLLGATE_REQUIRE_POSTGRES=1 so a missing server fails instead.
 * Beside it, one redis-server (Debian's `redis-server`) with an Upstash REST
 * bridge; when it is not installed, nothing is provided and the Redis tests
 * skip, said loudly (TOLLGATE_REQUIRE_REDIS=1 makes that a failure).
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  const bin = findSystemPostgres();
  let server: PostgresServer;
  if (bin) {
    server = await startSystemPostgres(bin, dir);
    console.log(`[tollgate tests] PostgreSQL from ${bin} on ${server.address}`);
  } else {
    if (process.env.TOLLGATE_REQUIRE_POSTGRES === '1') throw new Error('PostgreSQL is not installed and TOLLGATE_REQUIRE_POSTGRES=1');
    const banner = '!'.repeat(78);
    console.warn(`${banner}\n!! PostgreSQL is not installed: integration tests run against embedded PGlite.\n!! Install postgresql (Debian) to test against a real server.\n${banner}`);
    server = await startEmbeddedPostgres(join(dir, 'pglite'));
  }
  project.provide('postgresUrl', server.url);
  project.provide('postgresKind', server.kind);
  let redis: { server: RedisServer; bridge: UpstashBridge } | undefined;
  try {
    redis = await startRedis(join(dir, 'redis'));
  } catch (err) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  if (redis) {
    project.provide('redisUrl', redis.server.url);
    project.provide('redisRestUrl', redis.bridge.url);
    project.provide('redisRestToken', redis.bridge.token);
  }
  return async () => {
    await redis?.bridge.close();
    await redis?.server.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

async function startRedis(dir: string) {
  const bin = findRedisServer();
  if (!bin) {
    if (process.env.TOLLGATE_REQUIRE_REDIS === '1') throw new Error('redis-server is not installed and TOLLGATE_REQUIRE_REDIS=1');
    const banner = '!'.repeat(78);
    console.warn(`${banner}\n!! redis-server is not installed: the Redis (Upstash) tests are SKIPPED.\n!! Install redis-server (Debian) to run them.\n${banner}`);
    return undefined;
  }
  const server = await startRedisServer(dir, { bin });
  const bridge = await startUpstashBridge({ redisUrl: server.url, token: randomBytes(16).toString('hex') }).catch(async (err) => {
    await server.stop();
    throw err;
  });
  console.log(`[tollgate tests] Redis from ${bin} on 127.0.0.1:${server.port} (Upstash REST at ${bridge.url})`);
  return { server, bridge };
}
