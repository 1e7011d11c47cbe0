import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export interface Target {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** A fixed-concurrency load run with autocannon: throughput and latency percentiles (ms). */
export async function loadTest(target: Target, connections: number, durationS: number): Promise<LoadResult> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body,
    connections,
    duration: durationS,
    pipelining: 1,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * c=1 latency (one connection, one request at a time, timed with performance.now():
 * autocannon rounds latencies to whole milliseconds, too coarse for c=1) of several targets taking turns in `sliceMs` slices until each
 * has had `durationS` seconds, so a slow spell of the host (this machine's
 * c=1 p99 moves by milliseconds from one minute to the next) falls on all of
 * them alike; percentiles over each target's pooled requests.
 */
export async function interleavedLatency(targets: Target[], durationS: number, sliceMs = 250): Promise<LoadResult[]> {
  const tallies = targets.map(() => ({ times: [] as number[], errors: 0, non2xx: 0, ms: 0 }));
  const totalMs = durationS * 1000;
  for (let turn = 0; tallies.some((t) => t.ms < totalMs); turn++) {
    const i = turn % targets.length;
    const target = targets[i]!;
    const tally = tallies[i]!;
    if (tally.ms >= totalMs) continue;
    const headers = { 'content-type': 'application/json', ...target.headers };
    const sliceStart = performance.now();
    const sliceEnd = sliceStart + Math.min(sliceMs, totalMs - tally.ms);
    while (performance.now() < sliceEnd) {
      const t0 = performance.now();
      try {
        const res = await fetch(target.url, { method: 'POST', headers, body: target.body });
        await res.arrayBuffer();
        if (!res.ok) tally.non2xx++;
        tally.times.push(performance.now() - t0);
      } catch {
        tally.errors++;
      }
    }
    tally.ms += performance.now() - sliceStart;
  }
  return tallies.map(({ times, errors, non2xx, ms }) => {
    const sorted = times.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { rps: times.length / (ms / 1000), p50: at(0.5), p99: at(0.99), requests: times.length, errors, non2xx };
  });
}

export interface StreamResult {
  /** Median ms to the first content chunk. */
  ttft: number;
  /** Median ms to the end of the stream. */
  total: number;
  chunksSeen: number;
  /** Median arrival time (ms after the request) of each content chunk, for the held-back check. */
  arrivals: number[];
}

/** Sequential streamed calls: time to first token and to the end, medians over `count`. */
export async function streamTimings(target: Target, count: number): Promise<StreamResult> {
  const ttfts: number[] = [];
  const totals: number[] = [];
  const arrivalRuns: number[][] = [];
  let chunksSeen = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body: target.body });
    if (!res.ok || !res.body) throw new Error(`stream call failed: HTTP ${res.status} ${await res.text()}`);
    const reader = res.body.getReader();
    let text = '';
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const piece = decoder.decode(value, { stream: true });
      const at = performance.now() - started;
      for (let n = (piece.match(/"content":"w\d+ "/g) ?? []).length; n > 0; n--) arrivals.push(at);
      text += piece;
    }
    totals.push(performance.now() - started);
    ttfts.push(arrivals[0] ?? 0);
    arrivalRuns.push(arrivals);
    chunksSeen = arrivals.length;
  }
  const width = Math.min(...arrivalRuns.map((a) => a.length));
  const arrivals = Array.from({ length: width }, (_, i) => median(arrivalRuns.map((a) => a[i] ?? 0)));
  return { ttft: median(ttfts), total: median(totals), chunksSeen, arrivals };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const CLOCK_TICKS_PER_S = 100;

/** CPU time (ms, user + system) a process has used so far, from /proc. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** Peak resident memory (MiB) of a process, from /proc. */
export function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}
