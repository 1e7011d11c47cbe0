import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeIntake } from '../../../test/fakes/log-intake.ts';
import type { LoggerEnv } from './loggers/types.ts';
import { deliverLoggers, type LoggerSegment } from './loggers.ts';
import { encoder, deliveredTo, message, useDispatchBench } from '../../../test/support/logger-dispatch-bench.ts';

// The dispatcher with keys' and teams' own destinations beside the config's (owner pools, hanging owners, owners gone).

const bench = useDispatchBench();
let intake: FakeIntake;
let env: LoggerEnv;
const reports = bench.reports;
beforeAll(() => {
  ({ intake, env } = bench);
});
const delivered = (kind: 'generic' | 'datadog') => deliveredTo(intake, kind);

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
