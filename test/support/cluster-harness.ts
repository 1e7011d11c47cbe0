/**
 * Three gateway instances of one workerd cluster (test/workerd-cluster.test.ts): a fake S3 bucket,
 * a real Postgres behind the WebSocket proxy, the instances started in beforeAll and stopped in
 * afterAll, and the helpers the tests read the cluster with.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { migrateDatabase } from '../../scripts/lib/migrate.ts';
import { startWorkerd, type WorkerdProcess } from '../../scripts/lib/workerd-process.ts';
import { startWsProxy, type WsProxy } from '../../scripts/lib/wsproxy.ts';
import { type FakeS3, startFakeS3 } from '../fakes/s3.ts';
import { BUCKET, CREDENTIALS, PREFIX, useClusterBuild } from './cluster-build.ts';
import { freshDatabase, type TestDatabase } from './database.ts';
import { seedKey, sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { TEST_MASTER_KEY } from './stack.ts';

export function useCluster() {
  const cluster = useClusterBuild();
  const { dir, configFile, clusterOptions, generate } = cluster;
  let db: TestDatabase;
  let proxy: WsProxy;
  let s3: FakeS3;
  const instances: (WorkerdProcess | undefined)[] = [];
  // Bedrock's credentials, which the bucket must not use (nor the Workers see the bucket's).
  const env = () => ({
    DATABASE_URL: db.url, DATABASE_WSPROXY: proxy.url, LITELLM_MASTER_KEY: TEST_MASTER_KEY,
    AWS_ACCESS_KEY_ID: 'AKIDBEDROCK', AWS_SECRET_ACCESS_KEY: 'bedrock-secret', AWS_REGION: 'eu-west-3',
  });
  const start = async (n: number) => {
    instances[n] = await startWorkerd({ configFile, env: env(), storageDir: join(dir, 'state', String(n)), echo: process.env.TOLLGATE_TEST_LOG === '1' });
    return instances[n];
  };
  const at = (n: number) => {
    const w = instances[n];
    if (!w) throw new Error(`instance ${n} is not running`);
    return w;
  };

  /** One chat completion with `key` through instance `n`: its status and remaining-requests header. */
  const chat = async (n: number, key: string) => {
    const res = await fetch(`${at(n).url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello' }] }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = await res.text();
    return { status: res.status, remaining: res.headers.get('x-ratelimit-remaining-requests'), body, id: res.headers.get('x-litellm-call-id') };
  };
  /** A key with an RPM limit; its limiter object is placed on the instance that sees it first. */
  const limitedKey = async (rpm: number) => {
    const key = await seedKey(db.url);
    await query(db.url, 'UPDATE "LiteLLM_VerificationToken" SET rpm_limit = $1 WHERE token = $2', [rpm, sha256(key)]);
    return key;
  };
  /** Admitted requests allowed by a bucket of `rpm` that started full, after `ms` of refilling. */
  const allowance = (rpm: number, ms: number) => rpm + Math.floor((rpm * ms) / 60_000);
  const settle = () => new Promise((r) => setTimeout(r, 300)); // counters reach storage at most every 100 ms
  /** The limiter objects instance `n` has run: workerd names each object's SQLite file on its disk after its id. */
  const limiterIds = (n: number) => {
    const ns = join(dir, 'state', String(n), 'do', 'tollgate-EntityLimiter');
    return new Set(existsSync(ns) ? readdirSync(ns).filter((f) => /^[0-9a-f]{64}\.sqlite$/.test(f)).map((f) => f.slice(0, 64)) : []);
  };
  /** The one limiter object instance `n` placed while `work` ran. */
  const placed = async (n: number, work: () => Promise<void>) => {
    const before = limiterIds(n);
    await work();
    const added = [...limiterIds(n)].filter((id) => !before.has(id));
    expect(added).toHaveLength(1);
    return added[0] as string;
  };
  /** The ownership record of an object in the bucket: its owner's node id and the ownership epoch. */
  const owner = (id: string) => {
    const key = s3.keys(BUCKET, `${PREFIX}/v1/do/`).find((k) => k.endsWith(`/${id}/own.json`));
    return key ? JSON.parse(s3.get(BUCKET, key)?.toString() ?? '{}') as { node: string; epoch: number } : undefined;
  };
  const leases = () => s3.keys(BUCKET, `${PREFIX}/v1/nodes/`).filter((k) => k.endsWith('.json'))
    .map((k) => JSON.parse(s3.get(BUCKET, k)?.toString() ?? '{}') as { node: string; address: string; expires_ms: number; draining: boolean });
  /** Members holding a lease now (a dead instance's record stays until it is cleaned up). */
  const live = () => leases().filter((l) => !l.draining && l.expires_ms > Date.now());

  beforeAll(async () => {
    s3 = await startFakeS3({ buckets: [BUCKET], credentials: CREDENTIALS });
    writeFileSync(configFile, generate(clusterOptions(s3.endpoint)));
    db = await freshDatabase();
    proxy = await startWsProxy({ allow: [db.address] });
    await migrateDatabase(db.url, proxy.url);
    for (let n = 0; n < 3; n++) await start(n);
  });
  afterAll(async () => {
    await Promise.all(instances.map((w) => w?.stop()));
    await proxy?.close();
    await db?.drop().catch(() => undefined);
    await s3?.close();
  });

  return {
    ...cluster, instances, env, start, at, chat, limitedKey, allowance, settle, placed, owner, leases, live,
    get db() { return db; },
    get s3() { return s3; },
  };
}
