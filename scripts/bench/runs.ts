import { limiterCalls, telemetryDrained } from './gateway-state.ts';
import { cpuMs, interleavedLatency, loadTest, peakRssMb, streamTimings } from './measure.ts';
import type { PathResult } from './report.ts';
import type { PathName, PathTarget } from './targets.ts';

export interface RunOptions {
  runs: number;
  c1Seconds: number;
  c50Seconds: number;
  streams: number;
  /** The paths to measure (BENCH_ONLY); all by default. */
  only?: string[];
  gatewayUrl: string;
  dbUrl: string;
}

/**
 * The measured runs: in each, c=1 latency with every path taking turns in
 * short slices (interleavedLatency: the paths are compared within
 * milliseconds, which a slow minute of the host would otherwise bias), then
 * path by path c=50 for throughput, CPU and memory, and the paced streams.
 * Each path's result of each run.
 */
export async function measureRuns(targets: Record<PathName, PathTarget>, o: RunOptions): Promise<Record<PathName, PathResult[]>> {
  const samples: Record<PathName, PathResult[]> = { direct: [], floor: [], gateway: [], gatewayMaster: [] };
  const names = (Object.keys(targets) as PathName[]).filter((name) => !o.only || o.only.includes(name));
  const perRequest = (from: number | undefined, to: number | undefined, requests: number) =>
    from !== undefined && to !== undefined && requests > 0 ? (to - from) / requests : undefined;
  for (let run = 1; run <= o.runs; run++) {
    process.stdout.write(`run ${run}/${o.runs} c=1, paths taking turns ... `);
    const callsBeforeC1 = await limiterCalls(o.gatewayUrl);
    const c1s = await interleavedLatency(names.map((name) => targets[name].plain), o.c1Seconds);
    const callsAfterC1 = await limiterCalls(o.gatewayUrl);
    console.log(names.map((name, i) => `${name} p50 ${c1s[i]!.p50.toFixed(2)} ms`).join(', '));
    for (const [i, name] of names.entries()) {
      const t = targets[name];
      process.stdout.write(`run ${run}/${o.runs} ${name} ... `);
      const gatewayPath = name === 'gateway' || name === 'gatewayMaster';
      const c1 = c1s[i]!;
      const callsBefore = gatewayPath ? await limiterCalls(o.gatewayUrl) : undefined;
      const cpuBefore = t.pid ? cpuMs(t.pid) : 0;
      const c50 = await loadTest(t.plain, 50, o.c50Seconds);
      const c50EndedAt = Date.now();
      const callsAfterC50 = gatewayPath ? await limiterCalls(o.gatewayUrl) : undefined;
      // The c=50 run leaves telemetry to write (in the same workerd): its CPU counts toward the run's
      // requests, and streams are timed once it is written.
      const lastWriteAt = gatewayPath ? await telemetryDrained(o.dbUrl) : undefined;
      const cpuPerRequest = t.pid && c50.requests ? (cpuMs(t.pid) - cpuBefore) / c50.requests : undefined;
      const stream = await streamTimings(t.stream, o.streams);
      samples[name].push({
        c1, c50, stream, cpuPerRequestMs: cpuPerRequest, peakRssMb: t.pid ? peakRssMb(t.pid) : undefined,
        telemetryLagS: lastWriteAt === undefined ? undefined : Math.max(0, lastWriteAt - c50EndedAt) / 1000,
        // The c=1 phase's limiter calls are the virtual key's (the master key's calls make none).
        limiterCallsC1: name === 'gateway' ? perRequest(callsBeforeC1, callsAfterC1, c1.requests) : undefined,
        limiterCallsC50: perRequest(callsBefore, callsAfterC50, c50.requests),
      });
      console.log(`${c50.rps.toFixed(0)} req/s at c=50`);
    }
  }
  return samples;
}
