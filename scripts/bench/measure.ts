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

export interface StreamResult {
  /** Median ms to the first body bytes. */
  ttft: number;
  /** Median ms to the end of the stream. */
  total: number;
  chunksSeen: number;
}

/** Sequential streamed calls: time to first token and to the end, medians over `count`. */
export async function streamTimings(target: Target, count: number): Promise<StreamResult> {
  const ttfts: number[] = [];
  const totals: number[] = [];
  let chunksSeen = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body: target.body });
    if (!res.ok || !res.body) throw new Error(`stream call failed: HTTP ${res.status} ${await res.text()}`);
    const reader = res.body.getReader();
    let first = 0;
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const piece = decoder.decode(value, { stream: true });
      if (!first && piece.includes('"content"')) first = performance.now();
      text += piece;
    }
    totals.push(performance.now() - started);
    ttfts.push(first - started);
    chunksSeen = (text.match(/"content":"w\d+ "/g) ?? []).length;
  }
  return { ttft: median(ttfts), total: median(totals), chunksSeen };
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
