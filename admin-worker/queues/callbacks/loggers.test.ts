import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeIntake } from '../../../test/fakes/log-intake.ts';
import { log } from '../../../worker/telemetry/log.ts';
import type { LoggerEnv } from './loggers/types.ts';
import { datadogPoster } from './loggers/datadog.ts';
import { s3Poster } from './loggers/s3.ts';
import { deliverLoggers, type LoggerSegment, MAX_SPLIT_REQUESTS } from './loggers.ts';
import { DD_API_KEY, deliver as deliverWith, deliveredTo, encoder, GENERIC_SECRET, message, useDispatchBench } from '../../../test/support/logger-dispatch-bench.ts';

// The dispatcher against a fake intake on loopback (real HTTP, Datadog's gzip wire format): what is retried,
// what is split and what alone is dropped. Keys' and teams' own destinations: loggers-owners.test.ts.

const bench = useDispatchBench();
let intake: FakeIntake;
let env: LoggerEnv;
const reports = bench.reports;
beforeAll(() => {
  ({ intake, env } = bench);
});
const deliver = (segments: LoggerSegment[]) => deliverWith(bench, segments);
const delivered = (kind: 'generic' | 'datadog') => deliveredTo(intake, kind);

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
