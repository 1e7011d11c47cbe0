import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Build, buildAll, WORKERS } from '../scripts/lib/build.ts';
import { migrateDatabase } from '../scripts/lib/migrate.ts';
import { generateWorkerdConfig, q, readWranglerConfig, workerdEnvNames } from '../scripts/lib/workerd-config.ts';
import { startWorkerd, WORKERD_BIN, type WorkerdProcess } from '../scripts/lib/workerd-process.ts';
import { startWsProxy, type WsProxy } from '../scripts/lib/wsproxy.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const execFile = promisify(execFileCb);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-workerd-'));
const configYaml = `model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

let build: Build;
let capnp: string;
let text: string;
let envNames: string[];

beforeAll(async () => {
  writeFileSync(join(dir, 'config.yaml'), configYaml);
  build = await buildAll(join(dir, 'config.yaml'), join(dir, 'build'), { LITELLM_MASTER_KEY: TEST_MASTER_KEY });
  envNames = workerdEnvNames(build.compiled.config);
  // Beside build/, where the embeds' relative paths expect it by default.
  capnp = join(dir, 'config.capnp');
  text = generateWorkerdConfig({ gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames });
  writeFileSync(capnp, text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Messages waiting in workerd's queue storage (queues.js keeps one row each in its shards' `messages` table). */
async function queuedMessages(storageDir: string): Promise<number> {
  const { DatabaseSync } = await import('node:sqlite');
  const shards = join(storageDir, 'queues', 'QueueShard');
  let n = 0;
  for (const file of existsSync(shards) ? readdirSync(shards) : []) {
    if (!file.endsWith('.sqlite') || file === 'metadata.sqlite') continue;
    const db = new DatabaseSync(join(shards, file), { readOnly: true });
    try {
      n += Number((db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n);
    } catch {
      // a shard still being created
    } finally {
      db.close();
    }
  }
  return n;
}

/** workerd parses the config (schema, embeds) without serving it. */
const workerdAccepts = async (file: string) => (await execFile(WORKERD_BIN, ['compile', file, '--config-only'], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout.length;
// One line, and a long entry the formatter broke over lines (`(\n name = ...\n)`) read as a short one.
const flat = (s: string) => s.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');

describe('generated workerd config', () => {
  it('carries the bindings of both wrangler configs', () => {
    const t = flat(text);
    const gateway = readWranglerConfig(WORKERS.gateway);
    const admin = readWranglerConfig(WORKERS.admin);
    expect(t).toContain('(name = "ADMIN", service = "tollgate-admin")');
    expect(t).toContain(`name = "SPEND_LOG_QUEUE", queue = (name = "queues", props = (json = ${q('{"queue":"tollgate-spend-logs"}')}))`);
    for (const p of gateway.queues.producers ?? []) expect(t).toContain(`name = ${q(p.binding)}, queue = (name = "queues", props = (json = ${q(JSON.stringify({ queue: p.queue }))}))`);
    for (const s of gateway.services ?? []) expect(t).toContain(`(name = ${q(s.binding)}, service = ${q(s.service)})`);
    // The admin Worker consumes the spend-log queue with wrangler's batch settings.
    const consumer = admin.queues.consumers?.find((c) => c.queue === 'tollgate-spend-logs');
    expect(consumer).toBeDefined();
    expect(t).toContain(q(`${JSON.stringify('tollgate-spend-logs')}:${JSON.stringify({
      consumer: 'tollgate-admin', maxBatchSize: consumer?.max_batch_size, maxBatchTimeout: consumer?.max_batch_timeout, maxRetries: consumer?.max_retries,
      deadLetterQueue: consumer?.dead_letter_queue,
    })}`).slice(1, -1));
    expect(t).toContain('(name = "tollgate-admin", service = "tollgate-admin")');
    expect(t).toContain('(name = "queues.js", bundled = "/workerd/queues.js")');
    expect(t).toContain('durableObjectStorage = (localDisk = "queue-storage")');
    expect(t).toContain('network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))');
    expect(t).toMatch(/compatibilityDate = "2026-11-01", compatibilityFlags = \["nodejs_compat"\]/);
    expect(envNames).toEqual(expect.arrayContaining(['DATABASE_URL', 'DATABASE_WSPROXY', 'LITELLM_MASTER_KEY']));
    // Each Worker reads every name from the environment.
    for (const name of envNames) expect(t.split(`(name = ${q(name)}, fromEnvironment = ${q(name)})`)).toHaveLength(3);
    expect(t).toContain('(name = "http", address = "*:8080", http = (), service = "tollgate")');
  });

  it('is accepted by workerd', async () => {
    expect(await workerdAccepts(capnp)).toBeGreaterThan(1_000_000);
  });

  it('translates Durable Objects, cron triggers, dead letter queues and odd var values', async () => {
    const wdir = join(dir, 'wrangler');
    mkdirSync(join(wdir, 'admin'), { recursive: true });
    writeFileSync(join(wdir, 'wrangler.toml'), `name = "gw"
main = "x.ts"
compatibility_date = "2026-11-01"
[vars]
GREETING = "say \\"hi\\" \\\\ caf\u00e9\\n"
LIMITS = { rpm = 5 }
[[durable_objects.bindings]]
name = "LIMITER"
class_name = "KeyLimiter"
[[migrations]]
tag = "v1"
new_sqlite_classes = ["Limiter"]
new_classes = ["Old"]
[[migrations]]
tag = "v2"
renamed_classes = [{ from = "Limiter", to = "KeyLimiter" }]
deleted_classes = ["Old"]
[[queues.producers]]
binding = "Q"
queue = "jobs"
`);
    writeFileSync(join(wdir, 'admin', 'wrangler.toml'), `name = "gw-admin"
main = "x.ts"
compatibility_date = "2026-11-01"
[triggers]
crons = ["*/5 * * * *"]
[[durable_objects.bindings]]
name = "LIMITER"
class_name = "KeyLimiter"
script_name = "gw"
[[queues.consumers]]
queue = "jobs"
max_batch_size = 5
dead_letter_queue = "jobs-dlq"
retry_delay = 2
`);
    const custom = generateWorkerdConfig({
      gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames: ['GREETING', 'SECRET'],
      wranglerConfigs: { gateway: join(wdir, 'wrangler.toml'), admin: join(wdir, 'admin', 'wrangler.toml') }, adminAddress: '127.0.0.1:9090',
    });
    const t = flat(custom);
    // The renamed class keeps its first uniqueKey (its storage); the deleted one is gone.
    expect(t).toContain('durableObjectNamespaces = [ (className = "KeyLimiter", uniqueKey = "gw-Limiter", enableSql = true) ]');
    expect(t).not.toContain('"Old"');
    expect(t).toContain('(name = "LIMITER", durableObjectNamespace = (className = "KeyLimiter"))');
    expect(t).toContain('(name = "LIMITER", durableObjectNamespace = (className = "KeyLimiter", serviceName = "gw"))');
    expect(t).toContain('durableObjectStorage = (localDisk = "do-storage")');
    expect(t).toContain(q(JSON.stringify({ jobs: { consumer: 'gw-admin', maxBatchSize: 5, deadLetterQueue: 'jobs-dlq', retryDelay: 2 } })));
    expect(t).toContain('(name = "cron.js", bundled = "/workerd/cron.js")');
    expect(t).toContain(`(name = "CRONS", json = ${q(JSON.stringify({ 'gw-admin': ['*/5 * * * *'] }))})`);
    // A var wins over an environment variable of the same name; strings are escaped for capnp.
    expect(t).toContain('(name = "GREETING", text = "say \\"hi\\" \\\\ caf\\xc3\\xa9\\x0a")');
    expect(t.split('fromEnvironment = "GREETING"')).toHaveLength(2); // the admin Worker's only
    expect(t).toContain('(name = "LIMITS", json = "{\\"rpm\\":5}")');
    expect(t).toContain('(name = "admin", address = "127.0.0.1:9090", http = (), service = "gw-admin")');
    const file = join(dir, 'custom.capnp');
    writeFileSync(file, custom);
    expect(await workerdAccepts(file)).toBeGreaterThan(0);
  });

  it('refuses bindings it cannot translate and service bindings to unknown Workers', () => {
    const wdir = join(dir, 'wrangler-bad');
    mkdirSync(wdir, { recursive: true });
    writeFileSync(join(wdir, 'kv.toml'), 'name = "gw"\nmain = "x.ts"\ncompatibility_date = "2026-11-01"\n[[kv_namespaces]]\nbinding = "KV"\nid = "abc"\n');
    writeFileSync(join(wdir, 'svc.toml'), 'name = "gw"\nmain = "x.ts"\ncompatibility_date = "2026-11-01"\n[[services]]\nbinding = "X"\nservice = "elsewhere"\n');
    const gen = (gateway: string) => () => generateWorkerdConfig({
      gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames: [], wranglerConfigs: { gateway, admin: WORKERS.admin },
    });
    expect(gen(join(wdir, 'kv.toml'))).toThrow(/kv_namespaces/);
    expect(gen(join(wdir, 'svc.toml'))).toThrow(/"elsewhere", not a Worker here/);
  });
});

describe('the generated config in real workerd', () => {
  let db: TestDatabase;
  let proxy: WsProxy;
  let workerd: WorkerdProcess | undefined;
  const storageDir = join(dir, 'state');
  const env = () => ({ DATABASE_URL: db.url, DATABASE_WSPROXY: proxy.url, LITELLM_MASTER_KEY: TEST_MASTER_KEY });
  const client = () => new OpenAI({ baseURL: `${workerd?.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'Hello' }];

  beforeAll(async () => {
    db = await freshDatabase();
    proxy = await startWsProxy({ allow: [db.address] });
    await migrateDatabase(db.url, proxy.url);
    workerd = await startWorkerd({ configFile: capnp, env: env(), storageDir, echo: process.env.TOLLGATE_TEST_LOG === '1' });
  });
  afterAll(async () => {
    await workerd?.stop();
    await proxy?.close();
    await db?.drop().catch(() => undefined);
  });

  it('is ready, with the database connected', async () => {
    const res = await fetch(`${workerd?.url}/health/readiness`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'connected', db: 'connected' });
  });

  it('serves chat completions (plain and streamed) and records their spend through workerd\'s Queue', async () => {
    const { data, response } = await client().chat.completions.create({ model: 'mock-gpt', messages }).withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    const plainId = response.headers.get('x-litellm-call-id') ?? '';
    expect(plainId).not.toBe('');

    const streamed = await client().chat.completions.create({ model: 'mock-gpt', messages, stream: true }).withResponse();
    let content = '';
    let chunks = 0;
    for await (const chunk of streamed.data) {
      chunks++;
      content += chunk.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBeGreaterThan(1);
    expect(content).toBeTruthy();
    const streamId = streamed.response.headers.get('x-litellm-call-id') ?? '';

    // The gateway's producer → queues.js (QueueShard on disk) → the admin Worker's queue() → Postgres.
    const row = await eventually(() => spendLogRow(db.url, plainId));
    expect(row).toMatchObject({ status: 'success', model_group: 'mock-gpt' });
    expect(Number(row.spend)).toBeGreaterThan(0);
    expect(await eventually(() => spendLogRow(db.url, streamId))).toMatchObject({ status: 'success', model_group: 'mock-gpt' });
  });

  it('stops gracefully on SIGTERM, and a second run on the same storage delivers what the first had queued', async () => {
    const { response } = await client().chat.completions.create({ model: 'mock-gpt', messages }).withResponse();
    const lastId = response.headers.get('x-litellm-call-id') ?? '';
    // Stop once the record is on disk in the queue, before its batch (max_batch_timeout = 1 s) is delivered.
    // (A SIGTERM within the gateway's 400 ms send window loses it: workerd exits without awaiting waitUntil.)
    await eventually(async () => ((await queuedMessages(storageDir)) > 0 ? true : undefined), 5_000);
    const first = workerd;
    const exit = await first?.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await spendLogRow(db.url, lastId)).toBeUndefined();

    workerd = await startWorkerd({ configFile: capnp, env: env(), storageDir });
    expect(workerd.pid).not.toBe(first?.pid);
    const again = await client().chat.completions.create({ model: 'mock-gpt', messages }).withResponse();
    expect(again.data.choices[0]?.message.content).toBeTruthy();
    await eventually(() => spendLogRow(db.url, lastId));
    await eventually(() => spendLogRow(db.url, again.response.headers.get('x-litellm-call-id') ?? ''));
  });

  it('enforces a key\'s limits through Durable Objects on local disk, across a restart', async () => {
    const key = await seedKey(db.url);
    await query(db.url, 'UPDATE "LiteLLM_VerificationToken" SET rpm_limit = 3 WHERE token = $1', [sha256(key)]);
    const keyClient = new OpenAI({ baseURL: `${workerd?.url}/v1`, apiKey: key, maxRetries: 0 });
    for (let i = 0; i < 3; i++) await keyClient.chat.completions.create({ model: 'mock-gpt', messages });
    await expect(keyClient.chat.completions.create({ model: 'mock-gpt', messages })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await new Promise((r) => setTimeout(r, 300)); // counters are written to disk at most every 100 ms
    expect(await workerd?.stop()).toEqual({ code: 0, signal: null });
    workerd = await startWorkerd({ configFile: capnp, env: env(), storageDir });
    const again = new OpenAI({ baseURL: `${workerd.url}/v1`, apiKey: key, maxRetries: 0 });
    await expect(again.chat.completions.create({ model: 'mock-gpt', messages })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(readdirSync(join(storageDir, 'do')).length).toBeGreaterThan(0);
  });

  it('fails to start with workerd\'s own message when the config is broken', async () => {
    const broken = join(dir, 'broken.capnp');
    writeFileSync(broken, text.replace('service = "tollgate-admin")', 'service = "no-such-worker")'));
    await expect(startWorkerd({ configFile: broken, env: env(), storageDir: join(dir, 'state-broken'), readyTimeoutMs: 15_000 }))
      .rejects.toThrow(/no-such-worker/);
  });
});
