import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverLoggers, OWNER_REQUESTS } from './loggers.ts';
import { ownerPools, type OwnerPools } from './owner-limits.ts';

// otlp.ts is typed against the Workers types (ExecutionContext, the admin Worker's bindings), which this Node
// program does not load (tsconfig.node.json); tsconfig.json checks it. Loaded by a path TypeScript leaves alone.
type Envish = Record<string, unknown>;
type SpanSegment = { bytes: Uint8Array; events: number; origin: number; destination?: { source: 'otel'; exporter: string; team?: string; key?: string } };
type ExportSpans = (segments: SpanSegment[], env: Envish, ctx: unknown, retry: (origin: number) => void, ownerEnvs?: Promise<Map<string, Envish>>, pools?: OwnerPools) => Promise<void>;
const otlpModule: string = './otlp.ts';
const { exportSpans } = (await import(otlpModule)) as { exportSpans: ExportSpans };

// Keys' and teams' own Arize settings against a collector on loopback (real HTTP, OTLP/JSON): their exports
// share the owners' connections, and the config's own exports never wait for the owners' settings to be read.

interface Seen { at: number; apiKey: string; spaceId: string; path: string; inFlight: number }
const seen: Seen[] = [];
let holdMs = 0;
let inFlightOwners = 0;
let url = '';
const server = createServer((req: IncomingMessage, res) => {
  const apiKey = String(req.headers.api_key ?? '');
  const owner = apiKey.startsWith('own-');
  if (owner) inFlightOwners++;
  seen.push({ at: Date.now(), apiKey, spaceId: String(req.headers.space_id ?? ''), path: req.url ?? '', inFlight: inFlightOwners });
  req.resume();
  req.on('end', () => setTimeout(() => {
    if (owner) inFlightOwners--;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }, holdMs));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  inFlightOwners = 0;
});

const encoder = new TextEncoder();
const ctx = { waitUntil() {}, passThroughOnException() {} };
const span = (i: number) => encoder.encode(`{"traceId":"${i.toString(16).padStart(32, '0')}","spanId":"${i.toString(16).padStart(16, '0')}","name":"litellm_request"}`);
const envFor = (): Envish => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: url, ARIZE_HTTP_ENDPOINT: `${url}/v1`, ARIZE_SPACE_ID: 'env-space', ARIZE_API_KEY: 'env-arize-key',
});

describe('exportSpans with keys\' and teams\' own arize settings', () => {
  it("exports owners' spans through the owners' shared connections, the config's at once without waiting for the owners' settings", async () => {
    holdMs = 150;
    const env = envFor();
    const owners = 8;
    const segments: SpanSegment[] = [{ bytes: span(0), events: 1, origin: 0 }];
    for (let i = 1; i <= owners; i++) segments.push({ bytes: span(i), events: 1, origin: i, destination: { source: 'otel', exporter: 'arize', team: `t${i}` } });
    let readAt = 0;
    // The owners' settings, as the Postgres read gives them, late.
    const ownerEnvs = new Promise<Map<string, Envish>>((resolve) => setTimeout(() => {
      readAt = Date.now();
      resolve(new Map(Array.from({ length: owners }, (_, k) => [`arize\nteam:t${k + 1}`, { ...env, ARIZE_API_KEY: `own-${k + 1}`, ARIZE_SPACE_ID: `space-${k + 1}` }])));
    }, 400));
    const retried: number[] = [];
    await exportSpans(segments, env, ctx, (origin) => retried.push(origin), ownerEnvs);

    expect(retried).toEqual([]);
    // The config's otel export went out before the owners' settings were read.
    const configExport = seen.find((s) => s.path === '/v1/traces' && s.apiKey === '');
    expect(configExport).toBeDefined();
    expect(configExport!.at).toBeLessThan(readAt);
    // Every owner's spans went with its own key and space, never more than OWNER_REQUESTS at once.
    const ownerRequests = seen.filter((s) => s.apiKey.startsWith('own-'));
    expect(ownerRequests.map((s) => `${s.apiKey}/${s.spaceId}`).sort()).toEqual(Array.from({ length: owners }, (_, k) => `own-${k + 1}/space-${k + 1}`).sort());
    expect(Math.max(...ownerRequests.map((s) => s.inFlight))).toBeLessThanOrEqual(OWNER_REQUESTS);
    expect(seen.some((s) => s.apiKey === 'env-arize-key')).toBe(false);
  });

  const ownerSpans = (owners: number): SpanSegment[] =>
    Array.from({ length: owners }, (_, k) => ({ bytes: span(k + 1), events: 1, origin: k + 1, destination: { source: 'otel', exporter: 'arize', team: `t${k + 1}` } }));
  const ownEnvs = (env: Envish, owners: number) =>
    new Map(Array.from({ length: owners }, (_, k) => [`arize\nteam:t${k + 1}`, { ...env, ARIZE_API_KEY: `own-${k + 1}`, ARIZE_SPACE_ID: `space-${k + 1}` }]));

  it("retries, never drops, the owners' spans not sent within the owners' budget", async () => {
    holdMs = 300;
    const env = envFor();
    const owners = 6;
    const retried: number[] = [];
    await exportSpans(ownerSpans(owners), env, ctx, (origin) => retried.push(origin), Promise.resolve(ownEnvs(env, owners)), ownerPools(100));
    // OWNER_REQUESTS went out at once and were answered; the rest waited past the budget: each of theirs retried.
    const sent = seen.filter((s) => s.apiKey.startsWith('own-')).map((s) => Number(s.apiKey.slice(4)));
    expect(sent).toHaveLength(OWNER_REQUESTS);
    expect(retried.sort()).toEqual(Array.from({ length: owners }, (_, k) => k + 1).filter((o) => !sent.includes(o)).sort());
  });

  it("drops an owner's spans its settings make no target for, and retries those whose settings were not read", async () => {
    holdMs = 0;
    const env = envFor();
    const retried: number[] = [];
    const ownerEnvs = new Map<string, Envish>([
      ['arize\nteam:t1', { error: 'the team is gone', drop: true }],
      ['arize\nteam:t2', { ...env, ARIZE_API_KEY: 'own-2', ARIZE_SPACE_ID: '' }],
      ['arize\nteam:t3', { error: 'key or team settings could not be read' }],
    ]);
    await exportSpans(ownerSpans(4), env, ctx, (origin) => retried.push(origin), Promise.resolve(ownerEnvs));
    // t1 and t2 have no target now or later: dropped. t3's read failed and t4's is missing: retried, nothing sent.
    expect(retried.sort()).toEqual([3, 4]);
    expect(seen).toEqual([]);
  });

  it("shares one set of owners' connections between the loggers' owners and the Arize owners of a batch", async () => {
    holdMs = 150;
    const env = envFor();
    const owners = 4;
    const pools = ownerPools();
    const payload = (i: number) => encoder.encode(JSON.stringify({ id: `call-${i}`, status: 'success' }));
    const loggerEnvs = new Map(Array.from({ length: owners }, (_, k) => [
      `generic_api\nteam:l${k + 1}`, { GENERIC_LOGGER_ENDPOINT: `${url}/log`, GENERIC_LOGGER_HEADERS: `api_key=own-logger-${k + 1}` },
    ]));
    const retried: number[] = [];
    const retry = (origin: number) => retried.push(origin);
    await Promise.all([
      exportSpans(ownerSpans(owners), env, ctx, retry, Promise.resolve(ownEnvs(env, owners)), pools),
      deliverLoggers(Array.from({ length: owners }, (_, k) => ({ bytes: payload(k), events: 1, name: 'generic_api', origin: 10 + k, owner: `team:l${k + 1}` })), {}, () => {}, retry, loggerEnvs, pools),
    ]);
    expect(retried).toEqual([]);
    const ownerRequests = seen.filter((s) => s.apiKey.startsWith('own-'));
    expect(ownerRequests.filter((s) => s.path === '/log')).toHaveLength(owners);
    expect(ownerRequests.filter((s) => s.path !== '/log')).toHaveLength(owners);
    // All tenants together: never more than OWNER_REQUESTS in flight (separate pools would reach twice that).
    expect(Math.max(...ownerRequests.map((s) => s.inFlight))).toBeLessThanOrEqual(OWNER_REQUESTS);
  });
});
