import { type BreakdownResult, renderBreakdown } from './breakdown.ts';
import type { NativeProfile } from './native-profile.ts';
import { type LoadResult, median, type StreamResult } from './measure.ts';

export interface PathResult {
  c1: LoadResult;
  c50: LoadResult;
  stream: StreamResult;
  cpuPerRequestMs?: number;
  peakRssMb?: number;
  /** Seconds after the c=50 run ended until its last spend-log row was written. */
  telemetryLagS?: number;
  /** Limiter Durable Object calls per request (the gateway's tollgate_limiter_calls_total over the phase). */
  limiterCallsC1?: number;
  limiterCallsC50?: number;
}

export interface BenchReport {
  date: string;
  machine: { cores: number; cpu: string; node: string; workerd: string; postgres: string };
  method: { runs: number; c1Seconds: number; c50Seconds: number; streams: number };
  /** gatewayMaster: the same gateway with the master key, which has no limits of its own: the difference is admission. */
  /** Every path that ran (an investigation run with BENCH_ONLY may leave some out). */
  paths: { direct?: PathResult; floor?: PathResult; gateway?: PathResult; gatewayMaster?: PathResult };
  /** After the runs: requests the gateway counted, and the spend-log rows and Langfuse traces that reached their stores. */
  delivery?: { requests: number; spendRows: number; langfuseTraces: number };
  /** Where the throughput goes, layer by layer (breakdown.ts): floor, least gateway, Tollgate with its Queue elsewhere, Tollgate. */
  breakdown?: BreakdownResult[];
  /** µs of CPU a request by category of native code, per path (native-profile.ts); absent where perf does not work. */
  nativeProfile?: Omit<NativeProfile, 'bySymbolUs'>[];
}

/** The bar of issue #4, checked on one run's medians. */
export function checkBar(r: BenchReport): { name: string; ok: boolean; detail: string }[] {
  const { floor, gateway } = r.paths;
  if (!floor || !gateway) return [];
  const ratio = gateway.c50.rps / floor.c50.rps;
  return [
    { name: 'throughput at c=50 ≥ 60% of floor', ok: ratio >= 0.6, detail: `${(ratio * 100).toFixed(0)}%` },
    { name: 'p50 at c=1 ≤ floor + 1 ms', ok: gateway.c1.p50 <= floor.c1.p50 + 1, detail: `${signed(gateway.c1.p50 - floor.c1.p50)} ms` },
    { name: 'p99 at c=1 ≤ floor + 3 ms', ok: gateway.c1.p99 <= floor.c1.p99 + 3, detail: `${signed(gateway.c1.p99 - floor.c1.p99)} ms` },
    { name: 'stream TTFT ≤ floor + 2 ms', ok: gateway.stream.ttft <= floor.stream.ttft + 2, detail: `${signed(gateway.stream.ttft - floor.stream.ttft)} ms` },
    { name: 'no chunk held back (all 64 arrive, none later than the floor\'s by more than the first one was + 2 ms)', ok: gateway.stream.chunksSeen === 64 && heldBack(r) <= 2, detail: `${gateway.stream.chunksSeen} chunks, worst extra delay ${heldBack(r).toFixed(2)} ms` },
    ...(r.delivery ? [{
      name: 'every request the gateway served has its spend-log row and its Langfuse trace',
      ok: r.delivery.requests > 0 && r.delivery.spendRows === r.delivery.requests && r.delivery.langfuseTraces === r.delivery.requests,
      detail: `${r.delivery.requests} requests, ${r.delivery.spendRows} rows, ${r.delivery.langfuseTraces} traces`,
    }] : []),
    { name: 'no errors under load', ok: gateway.c50.errors + gateway.c50.non2xx + gateway.c1.errors + gateway.c1.non2xx === 0, detail: `${gateway.c50.errors} errors, ${gateway.c50.non2xx} non-2xx` },
  ];
}

/** The most any content chunk arrived later through the gateway than through the floor, beyond the first chunk's difference. */
function heldBack(r: BenchReport): number {
  const g = r.paths.gateway?.stream.arrivals;
  const fl = r.paths.floor?.stream.arrivals;
  if (!g || !fl) return 0;
  const base = (g[0] ?? 0) - (fl[0] ?? 0);
  let worst = 0;
  for (let i = 0; i < Math.min(g.length, fl.length); i++) worst = Math.max(worst, (g[i] ?? 0) - (fl[i] ?? 0) - base);
  return worst;
}

const f = (v: number | undefined, digits = 2) => (v === undefined ? '–' : v.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? '–' : `${(a / b).toFixed(2)}×`);
/** A path's measure, or – for a path that did not run. */
const at = (p: PathResult | undefined, pick: (p: PathResult) => number | undefined) => (p ? pick(p) : undefined);

/** A difference with its sign: +0.30, -0.91. */
const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`;

/** The Markdown table the README shows, with the bar under it. */
export function renderReport(r: BenchReport): string {
  const { direct, floor, gateway, gatewayMaster } = r.paths;
  const rows: [string, (p: PathResult) => number | undefined, number][] = [
    ['c=1 p50 latency (ms)', (p) => p.c1.p50, 2],
    ['c=1 p99 latency (ms)', (p) => p.c1.p99, 2],
    ['c=50 throughput (req/s)', (p) => p.c50.rps, 0],
    ['c=50 p50 latency (ms)', (p) => p.c50.p50, 2],
    ['c=50 p99 latency (ms)', (p) => p.c50.p99, 2],
    ['stream: time to first token (ms)', (p) => p.stream.ttft, 2],
    ['stream: total, 64 chunks 10 ms apart (ms)', (p) => p.stream.total, 1],
    ['CPU per request (ms, whole workerd process, telemetry written included)', (p) => p.cpuPerRequestMs, 3],
    ['c=50 run\'s last spend-log row written (s after the run)', (p) => p.telemetryLagS, 1],
    ['peak memory (MiB, workerd RSS)', (p) => p.peakRssMb, 0],
    ['limiter DO calls per request, c=1 (warm key)', (p) => p.limiterCallsC1, 2],
    ['limiter DO calls per request, c=50 (hot key: leases)', (p) => p.limiterCallsC50, 3],
  ];
  const lines = [
    '| measure | direct | floor | gateway | gateway/floor | gateway/direct | gateway, master key (no limiter) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(([label, pick, digits]) =>
      `| ${label} | ${f(at(direct, pick), digits)} | ${f(at(floor, pick), digits)} | ${f(at(gateway, pick), digits)} | ${ratio(at(gateway, pick), at(floor, pick))} | ${ratio(at(gateway, pick), at(direct, pick))} | ${f(at(gatewayMaster, pick), digits)} |`),
    '',
    ...(floor && gateway ? checkBar(r).map((b) => `- ${b.ok ? 'PASS' : 'MISSED'}: ${b.name} (${b.detail})`) : ['- the bar is not checked: the floor or the gateway did not run']),
    ...(gateway && gatewayMaster ? [`- admission (the virtual key's limiter round vs the master key's none): +${(gateway.c1.p50 - gatewayMaster.c1.p50).toFixed(2)} ms p50 at c=1; at c=50 the key is hot and admits through leases (${(gateway.c50.rps / gatewayMaster.c50.rps * 100).toFixed(0)}% of the master key's throughput)`] : []),
    ...(r.breakdown ? ['', 'Where the throughput goes (c=50, the paths alternating in 3 s rounds in one phase):', '', renderBreakdown(r.breakdown)] : []),
    '',
    `${r.date}; ${r.machine.cores} cores (${r.machine.cpu}); Node ${r.machine.node}; workerd ${r.machine.workerd}; ` +
    `medians of ${r.method.runs} runs (c=1 for ${r.method.c1Seconds} s a path, the paths taking turns in 250 ms slices; c=50 for ${r.method.c50Seconds} s, ${r.method.streams} streams each).`,
  ];
  return lines.join('\n');
}

/** Each measure's median over the runs (errors: the worst run; chunks seen: the fewest). */
export function medianOf(list: PathResult[]): PathResult {
  const m = (pick: (r: PathResult) => number | undefined) => {
    const values = list.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? median(values) : undefined;
  };
  return {
    c1: { rps: m((r) => r.c1.rps) ?? 0, p50: m((r) => r.c1.p50) ?? 0, p99: m((r) => r.c1.p99) ?? 0, requests: m((r) => r.c1.requests) ?? 0, errors: Math.max(...list.map((r) => r.c1.errors)), non2xx: Math.max(...list.map((r) => r.c1.non2xx)) },
    c50: { rps: m((r) => r.c50.rps) ?? 0, p50: m((r) => r.c50.p50) ?? 0, p99: m((r) => r.c50.p99) ?? 0, requests: m((r) => r.c50.requests) ?? 0, errors: Math.max(...list.map((r) => r.c50.errors)), non2xx: Math.max(...list.map((r) => r.c50.non2xx)) },
    stream: {
      ttft: m((r) => r.stream.ttft) ?? 0,
      total: m((r) => r.stream.total) ?? 0,
      chunksSeen: Math.min(...list.map((r) => r.stream.chunksSeen)),
      arrivals: (list[0]?.stream.arrivals ?? []).map((_, i) => median(list.map((r) => r.stream.arrivals[i] ?? 0))),
    },
    cpuPerRequestMs: m((r) => r.cpuPerRequestMs),
    peakRssMb: m((r) => r.peakRssMb),
    limiterCallsC1: m((r) => r.limiterCallsC1),
    telemetryLagS: m((r) => r.telemetryLagS),
    limiterCallsC50: m((r) => r.limiterCallsC50),
  };
}
