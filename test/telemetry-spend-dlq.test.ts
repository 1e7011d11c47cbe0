/**
 * Postgres down: requests still succeed, the spend-log consumer fails its
 * batches until they reach the dead-letter queue, and once Postgres is back
 * the dead-letter consumer writes every record exactly once. Runs on a
 * Postgres server of its own, so stopping it touches no other test file.
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildAll, WORKERS } from '../scripts/lib/build.ts';
import { findSystemPostgres, type PostgresServer, startEmbeddedPostgres, startSystemPostgres } from '../scripts/lib/postgres.ts';
import { type Stack, startStack } from '../scripts/lib/stack.ts';
import { generateWorkerdConfig, q, readWranglerConfig, workerdEnvNames } from '../scripts/lib/workerd-config.ts';
import { WORKERD_BIN } from '../scripts/lib/workerd-process.ts';
import { freeStablePort } from '../scripts/lib/free-port.ts';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const execFile = promisify(execFileCb);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-dlq-'));
const CONFIG = `model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, input_cost_per_token: 0.0000011, output_cost_per_token: 0.0000023}
`;

interface OwnPostgres {
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

/** Debian's PostgreSQL in `dir` (PGlite where none is installed), restartable on its port. */
async function ownPostgres(): Promise<OwnPostgres> {
  const bin = findSystemPostgres();
  if (!bin) {
    const data = join(dir, 'pglite');
    let server: PostgresServer = await startEmbeddedPostgres(data, await freeStablePort());
    const port = Number(new URL(server.url).port);
    const stop = () => server.stop();
    return { url: server.url, stop, dispose: stop, start: async () => void (server = await startEmbeddedPostgres(data, port)) };
  }
  // Its own temp dir: startSystemPostgres hands it to the postgres user, who must reach it from /tmp.
  const pgDir = mkdtempSync(join(tmpdir(), 'tollgate-dlq-pg-'));
  // Restarted on its port: one no other test's server can be given while it is down.
  const server = await startSystemPostgres(bin, pgDir, await freeStablePort());
  const port = new URL(server.url).port;
  const asRoot = process.getuid?.() === 0;
  // As startSystemPostgres starts it (scripts/lib/postgres.ts), on the port it picked.
  const args = ['-D', join(pgDir, 'data'), '-l', join(pgDir, 'log'), '-w', '-t', '60',
    '-o', `-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start'];
  const startOnce = async () => {
    if (asRoot) await execFile('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args]);
    else await execFile(join(bin, 'pg_ctl'), args);
  };
  // A start refused at once (the old server's socket still closing) is tried again, twice, a second apart.
  const start = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce();
      } catch (err) {
        if (attempt === 3) throw err;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  return {
    url: server.url, start, stop: server.stop,
    dispose: async () => {
      await server.stop();
      rmSync(pgDir, { recursive: true, force: true });
    },
  };
}

let pg: OwnPostgres | undefined;
let stack: Stack | undefined;

beforeAll(async () => {
  pg = await ownPostgres();
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  stack = await startStack({
    configFile: join(dir, 'config.yaml'), dataDir: join(dir, 'stack'), port: 0, databaseUrl: pg.url,
    env: { LITELLM_MASTER_KEY: TEST_MASTER_KEY }, runtimeOnlyEnv: { TOLLGATE_TEST_MODE: '1' },
    // Miniflare says at `warn` when it moves a message to the dead-letter queue.
    logLevel: 'warn',
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await stack?.stop();
  await pg?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('spend logs while Postgres is down', () => {
  it('serves every request, dead-letters the batches, and writes each record once when Postgres is back', async () => {
    if (!stack || !pg) throw new Error('no stack');
    const url = pg.url;
    // The master key and a mock model: no Postgres read on the request path.
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const ask = async (i: number) => {
      const { response } = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: `call ${i} ${'x '.repeat(i)}` }] }).withResponse();
      expect(response.status).toBe(200);
      return { id: response.headers.get('x-litellm-call-id') ?? '', cost: Number(response.headers.get('x-litellm-response-cost')) };
    };
    const before = await ask(0);
    await eventually(async () => ((await query(url, 'SELECT 1 FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [before.id])).length ? true : undefined));

    const logged: string[] = [];
    const keep = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    const log = console.log;
    const error = console.error;
    vi.spyOn(console, 'log').mockImplementation((...args) => (keep(...args), log(...args)));
    vi.spyOn(console, 'error').mockImplementation((...args) => (keep(...args), error(...args)));
    const seen = (text: string) => async () => (logged.some((l) => l.includes(text)) ? true : undefined);

    await pg.stop();
    const started = performance.now();
    const calls = [];
    for (let round = 0; round < 3; round++) {
      // Several batches: three rounds of ten concurrent calls, apart by more than the batch timeout.
      calls.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => ask(round * 10 + i + 1)))));
      await new Promise((r) => setTimeout(r, 1200));
    }
    expect(calls.every((c) => c.id && c.cost > 0)).toBe(true);

    // 1 + 3 attempts (backoff 2, 4, 8 s), then the dead-letter queue, whose consumer fails too while Postgres is down.
    await eventually(seen('failed (attempt 4), moving to dead-letter queue tollgate-spend-logs-dlq'), 60_000);
    await eventually(seen('to dead letter queue "tollgate-spend-logs-dlq"'), 10_000);
    await eventually(seen('SPEND LOGS NOT WRITTEN YET: dead-letter batch'), 30_000);
    const deadLettered = performance.now() - started;

    await pg.start();
    const all = [before, ...calls];
    const rows = await eventually(async () => {
      const found = await query(url, 'SELECT request_id, spend FROM "LiteLLM_SpendLogs"');
      return found.length >= all.length ? found : undefined;
    }, 90_000);
    console.log(`dead-lettered after ${deadLettered.toFixed(0)} ms; all written ${(performance.now() - started).toFixed(0)} ms after Postgres stopped`);
    expect(logged.some((l) => l.includes('spend-log dead-letter batch written'))).toBe(true);

    // Exactly once each, and the spend the responses reported.
    expect(rows.map((r) => r.request_id).sort()).toEqual(all.map((c) => c.id).sort());
    const total = all.reduce((s, c) => s + c.cost, 0);
    expect(rows.reduce((s, r) => s + Number(r.spend), 0)).toBeCloseTo(total, 9);
    const [daily] = await query(url, 'SELECT sum(api_requests)::int AS n, sum(spend) AS spend FROM "LiteLLM_DailyKeySpend"');
    expect(daily?.n).toBe(all.length);
    expect(Number(daily?.spend)).toBeCloseTo(total, 9);
  }, 240_000);
});

describe('the queue settings in the generated workerd config', () => {
  it('carries the dead-letter queue, its consumer and the cron triggers, and workerd accepts it', async () => {
    const admin = readWranglerConfig(WORKERS.admin);
    const consumer = (queue: string) => admin.queues.consumers?.find((c) => c.queue === queue);
    expect(consumer('tollgate-spend-logs')).toMatchObject({ max_retries: 3, dead_letter_queue: 'tollgate-spend-logs-dlq' });
    expect(consumer('tollgate-spend-logs-dlq')).toBeDefined();
    expect(admin.triggers.crons).toEqual(['* * * * *']);

    const build = await buildAll(join(dir, 'config.yaml'), join(dir, 'workerd', 'build'), { LITELLM_MASTER_KEY: TEST_MASTER_KEY });
    const text = generateWorkerdConfig({ gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames: workerdEnvNames(build.compiled.config) });
    const flat = text.replace(/\s+/g, ' ');
    const consumers = /name = "CONSUMERS", json = ("(?:[^"\\]|\\.)*")/.exec(flat)?.[1] ?? '""';
    const parsed = JSON.parse(JSON.parse(consumers.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => `\\u00${h}`)) as string) as Record<string, Record<string, unknown>>;
    expect(parsed['tollgate-spend-logs']).toMatchObject({ consumer: 'tollgate-admin', maxRetries: 3, deadLetterQueue: 'tollgate-spend-logs-dlq' });
    expect(parsed['tollgate-spend-logs-dlq']).toMatchObject({ consumer: 'tollgate-admin', maxRetries: 100 });
    // Both Workers tick each minute: the admin Worker's jobs, the gateway's background health checks.
    expect(readWranglerConfig(WORKERS.gateway).triggers.crons).toEqual(['* * * * *']);
    expect(flat).toContain(`(name = "CRONS", json = ${q(JSON.stringify({ tollgate: ['* * * * *'], 'tollgate-admin': ['* * * * *'] }))})`);
    expect(flat).toContain(`name = "SPEND_LOG_DLQ", queue = (name = "queues", props = (json = ${q('{"queue":"tollgate-spend-logs-dlq"}')}))`);
    const file = join(dir, 'workerd', 'config.capnp');
    writeFileSync(file, text);
    const compiled = await execFile(WORKERD_BIN, ['compile', file, '--config-only'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    expect(compiled.stdout.length).toBeGreaterThan(0);
  });
});
