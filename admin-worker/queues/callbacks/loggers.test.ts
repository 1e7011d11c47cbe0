import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeIntake, startFakeIntake } from '../../../test/fakes/log-intake.ts';
import { log } from '../../../worker/telemetry/log.ts';
import type { LoggerEnv } from './loggers/types.ts';
import { datadogPoster } from './loggers/datadog.ts';
import { s3Poster } from './loggers/s3.ts';
import { deliverLoggers, type LoggerSegment, MAX_SPLIT_REQUESTS } from './loggers.ts';

// The dispatcher against a fake intake on loopback (real HTTP, Datadog's gzip wire format): what is retried,
// what is split and what alone is dropped.

const DD_API_KEY = 'dd-dispatch-secret-1';
const GENERIC_SECRET = 'generic-dispatch-secret-2';
let intake: FakeIntake;
let env: LoggerEnv;
/** The failures the dispatcher reported (callback name: reason), as the consumer's metrics and alerts get them. */
const reports: string[] = [];
const encoder = new TextEncoder();

beforeAll(async () => {
  intake = await startFakeIntake({ ddApiKey: DD_API_KEY });
  env = {
    GENERIC_LOGGER_ENDPOINT: `${intake.url}/generic/dispatch`, GENERIC_LOGGER_HEADERS: `Authorization=Bearer ${GENERIC_SECRET}`,
    DD_API_KEY, DD_BASE_URL: intake.url,
  } as LoggerEnv;
});
afterAll(async () => {
  await intake?.close();
});
beforeEach(() => {
  intake.generic.length = 0;
  intake.datadog.length = 0;
  intake.refused.length = 0;
  intake.malformed.length = 0;
  reports.length = 0;
  intake.maxInFlight = 0;
  intake.delay(0);
  intake.failNext('generic', 200, 0);
  intake.failNext('datadog', 200, 0);
  intake.rejectItems('generic', undefined);
  intake.rejectItems('datadog', undefined);
});

/** A queue message's logger segment: these payloads' JSON, comma-separated, as the gateway packs them. */
function message(name: string, origin: number, ids: string[]): LoggerSegment {
  const text = ids.map((id) => JSON.stringify({ id, status: 'success', messages: [{ role: 'user', content: `hello, "${id}" \\ ,{}[]` }], request_tags: [] })).join(',');
  return { name, origin, events: ids.length, bytes: encoder.encode(text) };
}

async function deliver(segments: LoggerSegment[]): Promise<number[]> {
  const retried = new Set<number>();
  await deliverLoggers(segments, env, (callback, error) => reports.push(`${callback}: ${error.message}`), (origin) => retried.add(origin));
  return [...retried].sort();
}

const delivered = (kind: 'generic' | 'datadog') =>
  intake[kind].flatMap((r) => r.items).map((i) => (kind === 'datadog' ? (JSON.parse(i.message as string) as { id: string }).id : i.id as string)).sort();

describe('deliverLoggers', () => {
  it('retries a whole request the destination answers 401, 403, 404, 407 or a redirect: nothing split, nothing dropped', async () => {
    for (const status of [401, 403, 404, 407, 302]) {
      intake.refused.length = 0;
      intake.failNext('generic', status, 1);
      const retried = await deliver([message('generic_api', 0, ['a1', 'a2']), message('generic_api', 1, ['b1'])]);
      expect(retried, `HTTP ${status}`).toEqual([0, 1]);
      // One request, with every payload: no split into single messages each carrying the secret.
      expect(intake.refused.map((r) => r.items.map((i) => i.id))).toEqual([['a1', 'a2', 'b1']]);
    }
    expect(intake.generic).toEqual([]);
  });

  it('drops only the one payload a 400 refuses, out of a message packed with others, and delivers the rest once', async () => {
    intake.rejectItems('generic', (item) => item.id === 'bad');
    const lines: string[] = [];
    const spy = vi.spyOn(log, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      const retried = await deliver([message('generic_api', 0, ['m1', 'm2', 'bad', 'm4', 'm5']), message('generic_api', 1, ['n1', 'n2'])]);
      expect(retried).toEqual([]);
    } finally {
      spy.mockRestore();
    }
    expect(delivered('generic')).toEqual(['m1', 'm2', 'm4', 'm5', 'n1', 'n2']);
    expect(lines.filter((l) => /refused/.test(l))).toEqual([expect.stringContaining('the payload of call bad, dropped: HTTP 400')]);
    for (const request of intake.generic) expect(request.headers.authorization).toBe(`Bearer ${GENERIC_SECRET}`);
  });

  it('does the same for Datadog, whose logs wrap each payload', async () => {
    intake.rejectItems('datadog', (item) => (JSON.parse(item.message as string) as { id: string }).id === 'bad');
    expect(await deliver([message('datadog', 0, ['d1', 'bad', 'd3'])])).toEqual([]);
    expect(delivered('datadog')).toEqual(['d1', 'd3']);
  });

  it('keeps the messages of a logger this admin Worker does not know for a retry (the dead-letter queue at worst)', async () => {
    expect(await deliver([message('some_future_logger', 3, ['f1']), message('generic_api', 4, ['g1'])])).toEqual([3]);
    expect(delivered('generic')).toEqual(['g1']);
  });

  it('groups Datadog requests by their size once each payload is escaped inside a log, under the 5 MB intake limit', async () => {
    // Payloads that are mostly quotes: their JSON doubles in size as a log's `message`.
    const quoted = (id: string) => JSON.stringify({ id, status: 'success', text: '"'.repeat(90_000) });
    const segments: LoggerSegment[] = Array.from({ length: 40 }, (_, i) => ({ name: 'datadog', origin: i, events: 1, bytes: encoder.encode(quoted(`q${i}`)) }));
    const lines: string[] = [];
    const spy = vi.spyOn(log, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      expect(await deliver(segments)).toEqual([]);
    } finally {
      spy.mockRestore();
    }
    expect(delivered('datadog')).toHaveLength(40);
    expect(intake.refused).toEqual([]);
    // Grouped right the first time: no request was refused by post() itself for its size (and split after).
    expect(reports).toEqual([]);
    expect(lines).toEqual([]);
    for (const request of intake.datadog) expect(Buffer.byteLength(request.raw)).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(intake.datadog.length).toBeGreaterThan(1);
  });

  it('keeps a logger whose settings throw (an S3 bucket no URL takes) to itself: its messages retried, the others delivered once', async () => {
    const spy = vi.spyOn(s3Poster, 'target').mockImplementation(() => {
      throw new TypeError('Invalid URL: https://logs bucket.s3.us east.amazonaws.com/');
    });
    try {
      expect(await deliver([message('s3', 0, ['s1']), message('generic_api', 1, ['g1', 'g2']), message('datadog', 2, ['d1'])])).toEqual([0]);
    } finally {
      spy.mockRestore();
    }
    expect(delivered('generic')).toEqual(['g1', 'g2']);
    expect(delivered('datadog')).toEqual(['d1']);
    expect(reports).toEqual([expect.stringMatching(/^s3: its settings do not make a destination \(TypeError\)$/)]);
  });

  it('retries only the request whose post() throws (a header value fetch refuses), never quoting what it threw', async () => {
    const real = datadogPoster.target.bind(datadogPoster);
    const spy = vi.spyOn(datadogPoster, 'target').mockImplementation((e) => {
      const target = real(e);
      if ('error' in target) return target;
      return { where: target.where, post: () => Promise.reject(new TypeError(`invalid header value: "${DD_API_KEY}\n"`)) };
    });
    const lines: string[] = [];
    const logSpy = vi.spyOn(log, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      expect(await deliver([message('datadog', 0, ['d1']), message('generic_api', 1, ['g1'])])).toEqual([0]);
    } finally {
      logSpy.mockRestore();
      spy.mockRestore();
    }
    expect(delivered('generic')).toEqual(['g1']);
    expect(lines).toEqual([expect.stringContaining('retrying: the request could not be made (TypeError)')]);
    for (const text of [...lines, ...reports]) expect(text).not.toContain(DD_API_KEY);
  });

  it('never quotes a credential a destination echoes back in a log line or a failure report (retried or dropped)', async () => {
    intake.failNext('generic', 401, 1, { echo: true });
    // The key then starts 14 characters before a log line's cut (500): scrubbed whole first, none of it is quoted.
    intake.failNext('datadog', 400, 1, { echo: true, pad: 434 });
    const lines: string[] = [];
    const spy = vi.spyOn(log, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      expect(await deliver([message('generic_api', 0, ['g1']), message('datadog', 1, ['d1'])])).toEqual([0]);
    } finally {
      spy.mockRestore();
    }
    expect(intake.refused.map((r) => r.status).sort()).toEqual([400, 401]);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/generic_api callback: posting 1 payloads .* retrying: HTTP 401: .*you sent \[redacted\] \[redacted\]/),
      expect.stringMatching(/datadog callback: .* dropped: HTTP 400: .*you sent \[redacted\]; mi/),
    ]));
    expect(reports).toHaveLength(2);
    for (const text of [...lines, ...reports]) {
      // Not even a secret's first 4 characters in what the destination said ('gene' is the logger's name too).
      for (const secret of [GENERIC_SECRET, DD_API_KEY]) expect(text.slice(text.indexOf('HTTP 4'))).not.toContain(secret.slice(0, 4));
    }
  });

  it('keeps gcs_bucket payloads for a retry while GCS_PATH_SERVICE_ACCOUNT is a path (a deployment without npm start)', async () => {
    const retried = new Set<number>();
    const gcsEnv = { ...env, GCS_BUCKET_NAME: 'logs-1', GCS_PATH_SERVICE_ACCOUNT: '/secrets/gcs-key.json' };
    await deliverLoggers([message('gcs_bucket', 0, ['c1']), message('generic_api', 1, ['g1'])], gcsEnv, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.add(o));
    expect([...retried]).toEqual([0]);
    expect(delivered('generic')).toEqual(['g1']);
    expect(reports).toEqual([expect.stringContaining('gcs_bucket: GCS_PATH_SERVICE_ACCOUNT is a path')]);
  });

  it('retries, whole, the messages of a destination that refuses every payload with a 400 (a wrong key said as 400): none dropped', async () => {
    intake.failNext('generic', 400, 10_000);
    const lines: string[] = [];
    const spy = vi.spyOn(log, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      expect(await deliver([message('generic_api', 0, ['a1', 'a2', 'a3', 'a4', 'a5']), message('generic_api', 1, ['b1', 'b2'])])).toEqual([0, 1]);
    } finally {
      spy.mockRestore();
    }
    expect(intake.generic).toEqual([]);
    expect(lines.some((l) => /dropped/.test(l))).toBe(false);
    expect(lines).toContainEqual(expect.stringContaining('refused each of 7 payloads on its own, none taken'));
  });

  it(`spends at most ${MAX_SPLIT_REQUESTS} requests a batch finding refused payloads, then retries the rest whole`, async () => {
    intake.failNext('generic', 400, 10_000);
    const segments = Array.from({ length: 300 }, (_, i) => message('generic_api', i, [`p${i}`]));
    const spy = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    let retried: number[];
    try {
      retried = await deliver(segments);
    } finally {
      spy.mockRestore();
    }
    // One request, then its halves: never the ~600 a split of 300 messages down to each would make.
    expect(intake.refused.length).toBeLessThanOrEqual(1 + MAX_SPLIT_REQUESTS);
    expect(retried).toHaveLength(300);
  });

  it('sends many requests at most 6 at a time, to a slow destination too, and delivers each once', async () => {
    intake.delay(150);
    // Payloads of 1.6 MB: one a request under generic_api's 3 MB, so 16 requests.
    const big = (id: string) => JSON.stringify({ id, status: 'success', text: 'x'.repeat(1_600_000) });
    const segments: LoggerSegment[] = Array.from({ length: 16 }, (_, i) => ({ name: 'generic_api', origin: i, events: 1, bytes: encoder.encode(big(`big${i}`)) }));
    expect(await deliver(segments)).toEqual([]);
    expect(delivered('generic')).toHaveLength(16);
    expect(intake.generic).toHaveLength(16);
    expect(intake.maxInFlight).toBeGreaterThan(1);
    expect(intake.maxInFlight).toBeLessThanOrEqual(6);
  });
});

describe('deliverLoggers with keys\' and teams\' own destinations', () => {
  const big = (id: string) => JSON.stringify({ id, status: 'success', text: 'x'.repeat(1_600_000) });
  const owned = (owner: string, i: number): LoggerSegment => ({ name: 'generic_api', origin: i, events: 1, bytes: encoder.encode(big(`own${i}`)), owner });

  it('lets one owner hold one connection at a time, however many requests its payloads make', async () => {
    intake.delay(50);
    const retried = new Set<number>();
    const ownerEnvs = new Map([['generic_api\nkey:aaaa', env]]);
    await deliverLoggers(Array.from({ length: 6 }, (_, i) => owned('key:aaaa', i)), env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.add(o), ownerEnvs);
    expect([...retried]).toEqual([]);
    expect(intake.generic).toHaveLength(6);
    expect(intake.maxInFlight).toBe(1);
  });

  it("delivers the config's payloads at once while owners' destinations hang", async () => {
    const sockets = new Set<Socket>();
    let cut = false;
    const hang = createServer(() => undefined);
    hang.on('connection', (s) => (cut ? s.destroy() : sockets.add(s)));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const hangEnv = { ...env, GENERIC_LOGGER_ENDPOINT: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/hang` } as LoggerEnv;
    const owners = ['key:h1', 'key:h2', 'key:h3', 'team:h4', 'team:h5', 'team:h6', 'team:h7'];
    const ownerEnvs = new Map(owners.map((o) => [`generic_api\n${o}`, hangEnv]));
    const retried = new Set<number>();
    const segments = [...owners.map((o, i) => ({ ...message('generic_api', i, [`hung${i}`]), owner: o })), message('generic_api', 99, ['config-1'])];
    const started = Date.now();
    const done = deliverLoggers(segments, env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.add(o), ownerEnvs);
    try {
      await vi.waitFor(() => expect(delivered('generic')).toEqual(['config-1']), { timeout: 3000, interval: 20 });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      cut = true;
      for (const s of sockets) s.destroy();
      await done;
      await new Promise((r) => hang.close(r));
    }
    // The hung owners' payloads are retried, the config's is not.
    expect([...retried].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('drops, once and without a retry, the payloads of an owner gone or no longer naming the logger', async () => {
    const retried = new Set<number>();
    const ownerEnvs = new Map([['generic_api\nkey:gone', { error: 'the key no longer names generic_api settings', drop: true as const }]]);
    await deliverLoggers([{ ...message('generic_api', 1, ['a', 'b']), owner: 'key:gone' }], env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.add(o), ownerEnvs);
    expect([...retried]).toEqual([]);
    expect(reports).toEqual(['generic_api: the key no longer names generic_api settings']);
    expect(intake.generic).toHaveLength(0);
  });
});
