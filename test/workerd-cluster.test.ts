/**
 * Several gateway replicas as one: workerd's cluster mode (`Config.cluster`) in real workerd, three
 * instances on loopback with their own ports and storage directories, one generated config, one
 * S3-compatible bucket (test/fakes/s3.ts, which checks every request's signature), a real Postgres
 * behind the WebSocket proxy. Each key's limiter is one Durable Object for the whole cluster: a
 * limit holds across the instances, survives a handoff on SIGTERM and a takeover after SIGKILL.
 */
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Build, buildAll } from '../scripts/lib/build.ts';
import { migrateDatabase } from '../scripts/lib/migrate.ts';
import { awsCredentialsFile, type WorkerdClusterOptions, writeClusterKey } from '../scripts/lib/workerd-cluster.ts';
import { generateWorkerdConfig, workerdEnvNames } from '../scripts/lib/workerd-config.ts';
import { startWorkerd, WORKERD_BIN, type WorkerdProcess } from '../scripts/lib/workerd-process.ts';
import { startWsProxy, type WsProxy } from '../scripts/lib/wsproxy.ts';
import { type FakeS3, startFakeS3 } from './fakes/s3.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const execFile = promisify(execFileCb);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'));
const configYaml = `model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;
const BUCKET = 'tollgate-cluster';
const PREFIX = 'test';
const CREDENTIALS = { accessKeyId: 'AKIDTOLLGATECLUSTER', secretAccessKey: 'cluster-test-secret' };
// The lease is 20 s in production, 5 s here (and the 5 s a stopping instance keeps accepting, 1.25 s).
// Much shorter bounds risk fencing an instance whose bucket call is slow on a loaded machine.
const DIVISOR = 4;

let build: Build;
let envNames: string[];
const keyFile = join(dir, 'secrets', 'cluster.key');
// As a mounted Kubernetes Secret: not AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which are Bedrock's in the Workers' environment.
const credentialsFile = join(dir, 'secrets', 'bucket-credentials');
const configFile = join(dir, 'config.capnp');
const clusterOptions = (endpoint: string): WorkerdClusterOptions => ({
  bucket: `s3://${BUCKET}/${PREFIX}`, endpoint, region: 'us-east-1', credentialsFile, keyFile, address: '127.0.0.1:0', unsafeTimeDivisor: DIVISOR,
});

beforeAll(async () => {
  writeFileSync(join(dir, 'config.yaml'), configYaml);
  build = await buildAll(join(dir, 'config.yaml'), join(dir, 'build'), { LITELLM_MASTER_KEY: TEST_MASTER_KEY });
  envNames = workerdEnvNames(build.compiled.config);
  writeClusterKey(keyFile);
  writeFileSync(credentialsFile, awsCredentialsFile(CREDENTIALS));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generate = (cluster?: WorkerdClusterOptions) => generateWorkerdConfig({
  gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames, cluster,
});

describe('the cluster option of the generated config', () => {
  it('adds Config.cluster with the key embedded from its file and no credentials; absent, nothing changes', async () => {
    const plain = generate();
    expect(plain).not.toMatch(/cluster|CLUSTERED/);
    const text = generate({ ...clusterOptions('http://127.0.0.1:9000'), stopTimeoutMs: 20_000 });
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('bucket = "s3://tollgate-cluster/test"');
    expect(flat).toContain(`bucketOptions = ["aws_endpoint=http://127.0.0.1:9000", "aws_region=us-east-1", "aws_credentials_file=${credentialsFile}"]`);
    expect(flat).toContain('address = "127.0.0.1:0"');
    // Relative to the config (capnp embeds no absolute path without --import-path /).
    expect(flat).toContain('key = embed "secrets/cluster.key"');
    expect(flat).toContain('stopTimeoutMs = 20000');
    expect(flat).toContain(`unsafeTimeDivisor = ${DIVISOR}`);
    expect(flat).toContain('(name = "CLUSTERED", json = "true")');
    expect(text).not.toMatch(/AKID|cluster-test-secret|aws_access_key|aws_secret/);
    // Everything else is the single-instance config, unchanged.
    const strip = (t: string) => t.replace(/,\s*cluster = \([\s\S]*?\n {2}\)/, '').replace(/\n# Cluster:[^\n]*/, '').replace(/\s*\(name = "CLUSTERED", json = "true"\),/, '');
    expect(strip(text) === plain).toBe(true);
    const file = join(dir, 'check.capnp');
    writeFileSync(file, text);
    const { stdout } = await execFile(WORKERD_BIN, ['compile', file, '--config-only'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    expect(stdout.length).toBeGreaterThan(1_000_000);
  });

  it('takes the key file at any path, and refuses what workerd would refuse', () => {
    expect(generate({ ...clusterOptions('http://127.0.0.1:9000'), keyFile: '/run/secrets/tollgate/cluster-key' })).toMatch(/key = embed "(\.\.\/)+run\/secrets\/tollgate\/cluster-key"/);
    expect(generate({ bucket: 'gs://b/p', keyFile, address: '0.0.0.0:7000', advertise: '10.0.0.5:7000' }).replace(/\s+/g, ' '))
      .toContain('bucket = "gs://b/p", address = "0.0.0.0:7000", advertise = "10.0.0.5:7000"');
    const s3 = { bucket: 's3://b', keyFile, region: 'auto', credentialsFile };
    expect(() => generate({ bucket: 'gs://b/p', keyFile, endpoint: 'http://x' })).toThrow(/s3:\/\/ bucket only/);
    expect(() => generate({ ...s3, bucket: 'bucket/p' })).toThrow(/s3:\/\/<bucket>/);
    expect(() => generate({ ...s3, endpoint: 'http://x/path' })).toThrow(/no path/);
    expect(() => generate({ ...s3, unsafeTimeDivisor: 0 })).toThrow(/unsafeTimeDivisor/);
    // The AWS_* environment is Bedrock's: the bucket's region and keys must be given apart.
    expect(() => generate({ ...s3, region: undefined })).toThrow(/cluster.region is required/);
    expect(() => generate({ ...s3, credentialsFile: undefined })).toThrow(/cluster.credentialsFile is required/);
    expect(() => generate({ ...s3, credentialsFile: 'creds' })).toThrow(/absolute/);
  });
});

describe('three gateway instances in one workerd cluster', () => {
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

  it('joins through the bucket: a lease per instance, conditional writes, every request signed', async () => {
    expect(leases()).toHaveLength(3);
    for (const lease of leases()) {
      expect(lease.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(lease.draining).toBe(false);
      // The peer port's readiness probe: serving, holding its lease, not stopping.
      const ready = await fetch(`http://${lease.address}/ready`);
      expect([ready.status, await ready.text()]).toEqual([200, 'OK']);
    }
    expect(s3.calls.some((c) => c.op === 'PutObject' && c.conditions === 'if-none-match: *' && c.status === 200)).toBe(true);
    expect(s3.calls.some((c) => c.op === 'PutObject' && c.conditions?.startsWith('if-match: "') && c.status === 200)).toBe(true);
    // Nothing refused: every request signed with the credentials file's key (not Bedrock's), and nothing unimplemented was asked.
    expect(s3.calls.filter((c) => c.status === 403 || c.status === 501)).toEqual([]);
    expect(new Set(s3.calls.map((c) => c.accessKeyId))).toEqual(new Set([CREDENTIALS.accessKeyId]));
    for (let n = 0; n < 3; n++) expect((await fetch(`${at(n).url}/health/readiness`)).status).toBe(200);
  });

  it('enforces one rpm_limit across all instances, and a limit set through one applies on the others', async () => {
    const rpm = 7;
    const key = await limitedKey(rpm);
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await chat(i % 3, key)).status);
    const passed = statuses.filter((s) => s === 200).length;
    expect(passed).toBeGreaterThanOrEqual(rpm);
    expect(passed).toBeLessThanOrEqual(allowance(rpm, Date.now() - started));
    expect(statuses.slice(0, rpm)).toEqual(new Array(rpm).fill(200));
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // The key's one limiter object lives in the bucket.
    expect(s3.keys(BUCKET, `${PREFIX}/v1/do/`).some((k) => k.endsWith('/own.json'))).toBe(true);

    // An unlimited key, used on instance 1 (its limiter placed there, its policy loaded), limited through instance 0's admin API.
    const other = await seedKey(db.url);
    for (let i = 0; i < 3; i++) expect((await chat(1, other)).status).toBe(200);
    const update = await fetch(`${at(0).url}/key/update`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: other, rpm_limit: 2 }),
    });
    expect(update.status).toBe(200);
    const after = Date.now();
    const next: number[] = [];
    for (let i = 0; i < 6; i++) next.push((await chat(2 - (i % 2), other)).status);
    // The bucket started full with 2 (the new limit), whatever the old policy had counted.
    expect(next.filter((s) => s === 200).length).toBeLessThanOrEqual(allowance(2, Date.now() - after));
    expect(next).toContain(429);
  });

  it('records spend through the queue in the cluster', async () => {
    const key = await seedKey(db.url);
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const r = await chat(n, key);
      expect(r.status).toBe(200);
      ids.push(r.id ?? '');
    }
    for (const id of ids) expect(await eventually(() => spendLogRow(db.url, id))).toMatchObject({ status: 'success', model_group: 'mock-gpt' });
  });

  it('hands a stopping instance\'s limiters to the others on SIGTERM: the counts go on there', async () => {
    const rpm = 5;
    const key = await limitedKey(rpm);
    const started = Date.now();
    // First seen on instance 0, so its limiter runs there.
    const id = await placed(0, async () => expect(await chat(0, key)).toMatchObject({ status: 200, remaining: String(rpm - 1) }));
    expect((await chat(1, key)).status).toBe(200);
    expect((await chat(2, key)).status).toBe(200);
    const before = owner(id);
    expect(before?.node).toBeDefined();
    await settle();
    const stopping = at(0);
    expect(await stopping.stop()).toEqual({ code: 0, signal: null });
    instances[0] = undefined;
    // It left the cluster: its lease is released (or already removed), not left to expire.
    const left = leases().find((l) => l.node === before?.node);
    if (left) expect(left).toMatchObject({ draining: true, expires_ms: 0 });
    expect(live()).toHaveLength(2);

    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await chat(1 + (i % 2), key)).status);
    const passed = 3 + statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // Not a fresh bucket of 5 on the survivor: the 3 admitted before the stop still count.
    expect(passed).toBeGreaterThanOrEqual(rpm);
    expect(passed).toBeLessThanOrEqual(allowance(rpm, Date.now() - started));
    expect(statuses.at(-1)).toBe(429);
    // The same object, now on a survivor, under a new ownership epoch.
    const after = owner(id);
    expect(after?.node).not.toBe(before?.node);
    expect(leases().map((l) => l.node)).toContain(after?.node);
    expect(after?.epoch).toBeGreaterThan(before?.epoch ?? Infinity);

    // Back with its own (stale) disk: the bucket's copy wins, and it serves the cluster again.
    await start(0);
    expect((await chat(0, key)).status).toBe(429);
  });

  it('takes a killed instance\'s limiters over once its lease expires, with their counts', async () => {
    const rpm = 5;
    const key = await limitedKey(rpm);
    const started = Date.now();
    // Placed on instance 1.
    const id = await placed(1, async () => expect(await chat(1, key)).toMatchObject({ status: 200, remaining: String(rpm - 1) }));
    expect((await chat(2, key)).status).toBe(200);
    const before = owner(id);
    await settle();
    at(1).kill('SIGKILL');
    const killedAt = Date.now();
    await at(1).exited;
    instances[1] = undefined;

    // Until the lease (20 s / DIVISOR) runs out, the limiter cannot answer: a fast 503, never a hang or a fresh count.
    const seen: { status: number; at: number }[] = [];
    let ok = 0;
    while (Date.now() - killedAt < 30_000) {
      const r = await chat(2, key);
      seen.push({ status: r.status, at: Date.now() - killedAt });
      if (r.status === 200) ok++;
      if (r.status === 429) break;
      if (r.status === 503) await new Promise((res) => setTimeout(res, 100));
    }
    const statuses = seen.map((s) => s.status);
    expect(statuses.every((s) => [200, 429, 503].includes(s)), JSON.stringify(seen)).toBe(true);
    expect(statuses.at(-1), JSON.stringify(seen)).toBe(429);
    const takenOver = seen.find((s) => s.status !== 503);
    expect(takenOver?.at, JSON.stringify(seen)).toBeLessThan(20_000);
    // Claimed by a survivor over the dead owner's expired lease, under a new epoch.
    const after = owner(id);
    expect(after?.node).not.toBe(before?.node);
    expect(after?.epoch).toBeGreaterThan(before?.epoch ?? Infinity);
    const dead = leases().find((l) => l.node === before?.node);
    if (dead) expect(dead.expires_ms).toBeLessThan(Date.now());
    if (process.env.TOLLGATE_TEST_LOG) console.log('after SIGKILL', JSON.stringify(seen));
    // Two were admitted before the kill; the survivor admits only what was left.
    expect(2 + ok).toBeGreaterThanOrEqual(rpm);
    expect(2 + ok).toBeLessThanOrEqual(allowance(rpm, Date.now() - started));
    // Other instances keep working meanwhile, and the killed one rejoins on its own disk.
    const fresh = await seedKey(db.url);
    expect((await chat(0, fresh)).status).toBe(200);
    await start(1);
    expect((await chat(1, key)).status).toBe(429);
    expect((await chat(1, fresh)).status).toBe(200);
  });

  it('rotates the bucket credentials without a restart: the file is reread when it changes', async () => {
    const next = { accessKeyId: 'AKIDTOLLGATEROTATED', secretAccessKey: 'rotated-secret' };
    s3.setCredentials([CREDENTIALS, next]);
    const from = s3.calls.length;
    // Replaced by rename, as a Kubernetes Secret volume swaps its files.
    writeFileSync(`${credentialsFile}.new`, awsCredentialsFile(next));
    renameSync(`${credentialsFile}.new`, credentialsFile);
    await eventually(async () => {
      const recent = s3.calls.slice(from);
      const byInstance = new Set(recent.filter((c) => c.accessKeyId === next.accessKeyId && c.key.includes('/nodes/') && c.op === 'PutObject').map((c) => c.key));
      return byInstance.size === 3 ? true : undefined;
    }, 20_000);
    s3.setCredentials([next]);
    const key = await seedKey(db.url);
    for (let n = 0; n < 3; n++) expect((await chat(n, key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20_000 / DIVISOR)); // a lease's worth of renewals on the new key alone
    expect(live()).toHaveLength(3);
    expect(s3.calls.slice(from).filter((c) => c.status === 403)).toEqual([]);
  });

  it('refuses to start without its bucket credentials, or on a disk that holds single-instance Durable Objects', async () => {
    const missing = join(dir, 'missing.capnp');
    writeFileSync(missing, generate({ ...clusterOptions(s3.endpoint), credentialsFile: join(dir, 'secrets', 'absent') }));
    await expect(startWorkerd({ configFile: missing, env: env(), storageDir: join(dir, 'state', 'nocreds'), readyTimeoutMs: 15_000 }))
      .rejects.toThrow(/absent/);

    // A single-instance gateway's state (here, a key's limiter): the cluster would replace it from the bucket, so it is not imported.
    const plainFile = join(dir, 'plain.capnp');
    writeFileSync(plainFile, generate());
    const legacyDir = join(dir, 'state', 'legacy');
    const single = await startWorkerd({ configFile: plainFile, env: env(), storageDir: legacyDir });
    try {
      const key = await limitedKey(5);
      const res = await fetch(`${single.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello' }] }),
      });
      expect(res.status).toBe(200);
    } finally {
      await single.stop();
    }
    await expect(startWorkerd({ configFile, env: env(), storageDir: legacyDir, readyTimeoutMs: 15_000 }))
      .rejects.toThrow(/holds Durable Objects from before cluster mode, which the cluster would replace: move them away/);
  });
});
