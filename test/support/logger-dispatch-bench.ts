/**
 * The dispatcher's test bench (admin-worker/queues/callbacks/loggers.test.ts, loggers-owners.test.ts): a fake log intake on loopback (real HTTP,
 * Datadog's gzip wire format), the environment pointing the generic and Datadog loggers at it, the failures the
 * dispatcher reports, and queue-message segments as the gateway packs them.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeIntake, startFakeIntake } from '../fakes/log-intake.ts';
import type { LoggerEnv } from '../../admin-worker/queues/callbacks/loggers/types.ts';
import { deliverLoggers, type LoggerSegment } from '../../admin-worker/queues/callbacks/loggers.ts';

export const DD_API_KEY = 'dd-dispatch-secret-1';
export const GENERIC_SECRET = 'generic-dispatch-secret-2';
export const encoder = new TextEncoder();

export interface DispatchBench {
  intake: FakeIntake;
  env: LoggerEnv;
  /** The failures the dispatcher reported (callback name: reason), as the consumer's metrics and alerts get them. */
  reports: string[];
}

/** Registers the intake's start, stop and per-test reset; the fields are set once the suite has started. */
export function useDispatchBench(): DispatchBench {
  const bench = { reports: [] as string[] } as unknown as DispatchBench;
  beforeAll(async () => {
    bench.intake = await startFakeIntake({ ddApiKey: DD_API_KEY });
    bench.env = {
      GENERIC_LOGGER_ENDPOINT: `${bench.intake.url}/generic/dispatch`, GENERIC_LOGGER_HEADERS: `Authorization=Bearer ${GENERIC_SECRET}`,
      DD_API_KEY, DD_BASE_URL: bench.intake.url,
    } as LoggerEnv;
  });
  afterAll(async () => {
    await bench.intake?.close();
  });
  beforeEach(() => {
    const intake = bench.intake;
    intake.generic.length = 0;
    intake.datadog.length = 0;
    intake.refused.length = 0;
    intake.malformed.length = 0;
    bench.reports.length = 0;
    intake.maxInFlight = 0;
    intake.delay(0);
    intake.failNext('generic', 200, 0);
    intake.failNext('datadog', 200, 0);
    intake.rejectItems('generic', undefined);
    intake.rejectItems('datadog', undefined);
  });
  return bench;
}

/** A queue message's logger segment: these payloads' JSON, comma-separated, as the gateway packs them. */
export function message(name: string, origin: number, ids: string[]): LoggerSegment {
  const text = ids.map((id) => JSON.stringify({ id, status: 'success', messages: [{ role: 'user', content: `hello, "${id}" \\ ,{}[]` }], request_tags: [] })).join(',');
  return { name, origin, events: ids.length, bytes: encoder.encode(text) };
}

/** Delivers the segments with the bench's environment; the origins the dispatcher asked to retry, sorted. */
export async function deliver(bench: DispatchBench, segments: LoggerSegment[]): Promise<number[]> {
  const retried = new Set<number>();
  await deliverLoggers(segments, bench.env, (callback, error) => bench.reports.push(`${callback}: ${error.message}`), (origin) => retried.add(origin));
  return [...retried].sort();
}

/** The payload ids the intake took for a logger, sorted. */
export const deliveredTo = (intake: FakeIntake, kind: 'generic' | 'datadog') =>
  intake[kind].flatMap((r) => r.items).map((i) => (kind === 'datadog' ? (JSON.parse(i.message as string) as { id: string }).id : i.id as string)).sort();
