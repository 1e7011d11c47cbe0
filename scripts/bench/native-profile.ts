import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadTest, type Target } from './measure.ts';
import { chatTarget } from './targets.ts';

const run = promisify(execFile);

/**
 * Where a workerd process's CPU goes below JavaScript: `perf record` (Debian's linux-perf) of each
 * path's workerd under the same c=50 load, its samples summed by symbol into categories, in µs of
 * CPU a request. The V8 profile (profile.ts) sees only the isolates' JavaScript, about a third of
 * the gateway's time; the rest is workerd itself (its HTTP server and client, Headers, the bindings
 * between JavaScript and C++, its event loop), tcmalloc and the kernel, which only a native profiler
 * sees. workerd's binary keeps its symbols. Code V8 compiled has none without `--perf-basic-prof`,
 * so it is counted by where it lies (an anonymous mapping) as "JavaScript compiled by V8".
 */
export interface NativePath {
  name: string;
  pid: number;
  target: Target;
}

export interface NativeProfile {
  name: string;
  requests: number;
  /** µs a request by category, on workerd's main thread (the one that bounds throughput). */
  mainUs: Record<string, number>;
  /** µs a request on workerd's other threads (V8's compiler and GC helpers). */
  backgroundUs: number;
  /** µs a request by symbol on the main thread, for the differences table. */
  bySymbolUs: Map<string, number>;
}

const FREQUENCY_HZ = 2000;
/** cpu-clock: a sample's period is CPU time in ns on every host (a hardware `cycles` event would count cycles). */
const PERF_EVENT = ['-e', 'cpu-clock', '-F', String(FREQUENCY_HZ)];

/** Ordered: the first category whose test matches a sample's symbol takes it. */
const CATEGORIES: [string, (dso: string, sym: string) => boolean][] = [
  ['kernel (sockets, scheduling, page faults)', (dso, sym) => dso.startsWith('[kernel') || sym.startsWith('[k]')],
  ['JavaScript compiled by V8 (the Worker\'s code)', (dso, sym) => /^\[JIT\]|^\[unknown\]|^\/\/anon|perf-\d+\.map/.test(dso) || sym.includes('JS:')],
  ['V8 garbage collection', (_d, sym) => /Scaveng|MarkCompact|Sweep|cppgc::|GCTracer|Marking|Evacuat|Remembered|SlotSet|Heap::|MinorMS|MemoryAllocator|PagedSpace|NewSpace/.test(sym)],
  ['V8 builtins and runtime (JSON, strings, promises, properties)', (_d, sym) => /Builtins_|v8::internal::|unibrow|simdutf|fast_float/.test(sym)],
  ['bindings between JavaScript and workerd (V8 API, jsg)', (_d, sym) => /v8::|jsg::/.test(sym)],
  ['memory (tcmalloc, malloc, memcpy)', (_d, sym) => /tcmalloc|TCMalloc|malloc|cfree|realloc|__rdl_|mem(move|cpy|set|cmp|chr)|__str|strlen/.test(sym)],
  ['Headers (workerd::api::Headers, kj header tables)', (_d, sym) => /Headers|getHeaderKeyFor|HttpHeader|HeaderCaseMap|http::header/.test(sym)],
  ['HTTP server and client (hyper, tokio, kj-http)', (_d, sym) => /hyper|tokio|httparse|http::|mio::|futures_|atomic_waker|kj_rs|Http|cxxbridge/.test(sym)],
  ['event loop and promises (kj async)', (_d, sym) => /kj::_::|EventLoop|Event::|kj::Promise|UnixEventPort|kj::Canceler|Timer/.test(sym)],
  ['zlib', (_d, sym) => /deflate|inflate|zlib|crc|adler|longest_match|compress_block|send_tree|build_tree|fill_window/i.test(sym)],
  ['SQLite (the Queue\'s storage, Durable Objects)', (_d, sym) => /sqlite/i.test(sym)],
  ['workerd, kj and capnp other (IoContext, streams, Request/Response)', (_d, sym) => /workerd|kj::|capnp::|absl::/.test(sym)],
  ['other (libc, libstdc++, unknown)', () => true],
];

/** Whether `perf record` works here (the binary exists and the kernel lets it sample). */
export async function perfAvailable(): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-perf-check-'));
  try {
    await run('perf', ['record', ...PERF_EVENT, '-o', join(dir, 'check.data'), '--', 'true']);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
    return /ENOENT/.test(message) ? 'perf is not installed (Debian: apt-get install linux-perf)' : `perf record does not work here: ${message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The paths the native profile compares (floor, least gateway, Tollgate), or undefined (said loudly) where perf cannot record. */
export async function nativeProfilePaths(targets: Record<'floor' | 'gateway', { plain: Target; pid?: number }>, least: { url: string; pid: number }): Promise<NativePath[] | undefined> {
  const noPerf = await perfAvailable();
  if (noPerf) {
    console.warn(`\n!!! native profile SKIPPED: ${noPerf}\n`);
    return undefined;
  }
  console.log('Native profile (perf) of floor, least gateway and gateway ...');
  return [
    { name: 'floor', pid: targets.floor.pid as number, target: targets.floor.plain },
    { name: 'least gateway', pid: least.pid, target: chatTarget(least.url) },
    { name: 'Tollgate', pid: targets.gateway.pid as number, target: targets.gateway.plain },
  ];
}

/** Records each path's workerd for `seconds` of c=50 load, one after the other. */
export async function nativeProfiles(paths: NativePath[], seconds = 8): Promise<NativeProfile[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-perf-'));
  try {
    const results: NativeProfile[] = [];
    for (const path of paths) {
      const file = join(dir, `${results.length}.data`);
      const perf = spawn('perf', ['record', ...PERF_EVENT, '-p', String(path.pid), '-o', file], { stdio: 'ignore' });
      const exited = new Promise((resolve) => perf.once('exit', resolve));
      let load: Awaited<ReturnType<typeof loadTest>>;
      try {
        // perf attaches to every thread of the process before the load starts.
        await new Promise((resolve) => setTimeout(resolve, 500));
        load = await loadTest(path.target, 50, seconds);
      } finally {
        perf.kill('SIGINT');
        await exited;
      }
      if (load.errors || load.non2xx) throw new Error(`${path.name}: ${load.errors} errors, ${load.non2xx} non-2xx under load while profiling`);
      results.push(await summarise(path.name, file, load.requests));
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function summarise(name: string, file: string, requests: number): Promise<NativeProfile> {
  // period: the sample's CPU time in ns (cpu-clock); `|` separates the fields.
  const { stdout } = await run('perf', ['report', '-i', file, '--no-children', '-g', 'none', '-F', 'period,comm,dso,sym', '-t', '|', '-q'], { maxBuffer: 256 * 1024 * 1024 });
  const mainUs: Record<string, number> = Object.fromEntries(CATEGORIES.map(([category]) => [category, 0]));
  const bySymbolUs = new Map<string, number>();
  let backgroundUs = 0;
  const perRequest = (ns: number) => ns / 1000 / Math.max(1, requests);
  for (const line of stdout.split('\n')) {
    const [period, comm, dso, ...rest] = line.split('|');
    const ns = Number(period);
    if (!Number.isFinite(ns) || comm === undefined || dso === undefined) continue;
    const sym = rest.join('|').trim();
    const us = perRequest(ns);
    if (comm.trim() !== 'workerd') {
      backgroundUs += us;
      continue;
    }
    const category = CATEGORIES.find(([, test]) => test(dso.trim(), sym))?.[0] ?? 'other (libc, libstdc++, unknown)';
    mainUs[category] = (mainUs[category] ?? 0) + us;
    const key = sym.replace(/^\[[.k]\]\s*/, '').slice(0, 110);
    bySymbolUs.set(key, (bySymbolUs.get(key) ?? 0) + us);
  }
  return { name, requests, mainUs, backgroundUs, bySymbolUs };
}

/**
 * The categories side by side (µs a request), the last two columns' difference, and the symbols
 * whose time grew most from the second-to-last path to the last (what the last adds).
 */
export function renderNativeProfiles(profiles: NativeProfile[], topSymbols = 15): string {
  const last = profiles[profiles.length - 1];
  const before = profiles[profiles.length - 2];
  const fmt = (us: number) => us.toFixed(1);
  const total = (p: NativeProfile) => Object.values(p.mainUs).reduce((a, b) => a + b, 0);
  const lines = [
    `| workerd main thread, µs of CPU a request (perf, c=50) | ${profiles.map((p) => p.name).join(' | ')} |${last && before ? ' difference, last two |' : ''}`,
    `|---|${profiles.map(() => '---:').join('|')}|${last && before ? '---:|' : ''}`,
  ];
  const row = (label: string, values: number[]) => {
    const diff = values.length >= 2 ? ` ${fmt(values[values.length - 1]! - values[values.length - 2]!)} |` : '';
    return `| ${label} | ${values.map(fmt).join(' | ')} |${diff}`;
  };
  for (const [category] of CATEGORIES) lines.push(row(category, profiles.map((p) => p.mainUs[category] ?? 0)));
  lines.push(row('**main thread, total**', profiles.map(total)));
  lines.push(row('other threads (V8\'s compiler and GC helpers)', profiles.map((p) => p.backgroundUs)));
  if (last && before) {
    const grew = [...last.bySymbolUs.entries()]
      .map(([sym, us]) => [sym, us - (before.bySymbolUs.get(sym) ?? 0)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, topSymbols);
    lines.push('', `Symbols whose time grew most from ${before.name} to ${last.name} (µs a request, main thread):`);
    for (const [sym, us] of grew) lines.push(`  ${fmt(us).padStart(5)}  ${sym}`);
  }
  return lines.join('\n');
}
