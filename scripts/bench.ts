/**
 * `npm run bench`: Tollgate's overhead and throughput, side by side with the
 * direct path and the runtime's floor, on this machine, in one run.
 *
 *   direct   load generator → fake upstream
 *   floor    load generator → pass-through Worker (standalone workerd) → fake upstream
 *   gateway  load generator → Tollgate (standalone workerd, generated config) → fake upstream,
 *            with a virtual key that has limits and a budget
 * and, to isolate the cost of admission, the same gateway called with the master key (no limiter call).
 *
 * Options: --runs N (3), --c1 SECONDS (5), --c50 SECONDS (10), --streams N (10), --profile,
 * --profile-only (no measured runs: only where the gateway's time goes, printed), --native-only (no
 * measured runs: only the native profile of floor, least gateway and gateway, printed; needs perf),
 * --breakdown-rounds N (4; 0 skips it): where the throughput goes, layer by layer (scripts/bench/breakdown.ts:
 * the floor, the least any usage-counting gateway adds, Tollgate with its Queue messages leaving the
 * process, Tollgate), c=50 alternating between them.
 * For investigations (never in the published numbers): BENCH_ONLY=floor,gateway runs only those
 * paths; BENCH_PROFILE_KEY=master profiles the master key's path; BENCH_V8_FLAGS passes V8 flags to
 * the gateway's workerd (e.g. "--perf-basic-prof" for `perf record`); BENCH_EXPERIMENT_NO_LANGFUSE and
 * BENCH_EXPERIMENT_NO_QUEUE turn Langfuse callbacks or the spend-log Queue off. Such a run prints its
 * table and writes nothing under bench/.
 * Writes bench/latest.json (and bench/results/<time>.json) and prints the table the README shows.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MASTER_KEY, startBenchStack, VIRTUAL_KEY } from './bench/stack.ts';
import { throughputBreakdown, queuesElsewhere, startQueueSink } from './bench/breakdown.ts';
import { writeFloorConfig, writeLeastGatewayConfig } from './bench/floor-config.ts';
import { cpuMs, interleavedLatency, loadTest, peakRssMb, streamTimings, type Target } from './bench/measure.ts';
import { profileUnderLoad } from './bench/profile.ts';
import { nativeProfiles, perfAvailable, renderNativeProfiles } from './bench/native-profile.ts';
import { deliveryCheck, limiterCalls, telemetryDrained } from './bench/gateway-state.ts';
import { medianOf, renderReport, type BenchReport, type PathResult } from './bench/report.ts';
import { buildAll, ROOT } from './lib/build.ts';
import { freePort } from './lib/free-port.ts';
import { WELL_KNOWN_ENV } from './lib/stack.ts';
import { generateWorkerdConfig } from './lib/workerd-config.ts';
import { startWorkerd } from './lib/workerd-process.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    c1: { type: 'string', default: '5' },
    c50: { type: 'string', default: '10' },
    streams: { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false },
    'profile-only': { type: 'boolean', default: false },
    'native-only': { type: 'boolean', default: false },
    'breakdown-rounds': { type: 'string', default: '4' },
  },
});
const RUNS = Number(values.runs);
/** The investigation settings in force, if any: such a run is printed, never written under bench/ as a result. */
const INVESTIGATION = ['BENCH_ONLY', 'BENCH_V8_FLAGS', 'BENCH_EXPERIMENT_NO_LANGFUSE', 'BENCH_EXPERIMENT_NO_QUEUE'].filter((name) => process.env[name]).join(', ');
const C1_S = Number(values.c1);
const C50_S = Number(values.c50);
const STREAMS = Number(values.streams);

const cleanups: (() => Promise<unknown>)[] = [];
const work = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
cleanups.push(async () => rmSync(work, { recursive: true, force: true }));

async function main() {
  // Callbacks on: Langfuse ingestion goes to a sink on loopback that answers as Langfuse does (207).
  const { upstream, db, langfuse, configFile, env } = await startBenchStack(work, cleanups, { langfuse: !process.env.BENCH_EXPERIMENT_NO_LANGFUSE });
  const build = await buildAll(configFile, join(work, 'build'), env);
  const gatewayConfig = join(work, 'gateway.capnp');
  let capnp = generateWorkerdConfig({
    gatewayScript: build.scripts.gateway,
    adminScript: build.scripts.admin,
    envNames: [...new Set([...WELL_KNOWN_ENV, 'DATABASE_URL', 'DATABASE_WSPROXY'])],
    configDir: work,
  });
  if (process.env.BENCH_V8_FLAGS) capnp = capnp.replace('const config :Workerd.Config = (', `const config :Workerd.Config = (v8Flags = [${process.env.BENCH_V8_FLAGS.split(' ').map((f) => JSON.stringify(f)).join(', ')}], `);
  if (process.env.BENCH_EXPERIMENT_NO_QUEUE) capnp = capnp.replace('name = "SPEND_LOG_QUEUE"', 'name = "UNUSED_QUEUE"');
  writeFileSync(gatewayConfig, capnp);
  const gateway = await startWorkerd({ configFile: gatewayConfig, env, port: await freePort(), storageDir: join(work, 'gateway-state') });
  cleanups.push(gateway.stop);
  const floorConfig = writeFloorConfig(work);
  const floor = await startWorkerd({ configFile: floorConfig, env: { UPSTREAM: upstream.url }, port: await freePort(), storageDir: join(work, 'floor-state') });
  cleanups.push(floor.stop);

  const body = (stream: boolean) => JSON.stringify({ model: 'bench-gpt', stream, messages: [{ role: 'user', content: 'Hello, how are you today?' }] });
  const targets: Record<'direct' | 'floor' | 'gateway' | 'gatewayMaster', { plain: Target; stream: Target; pid?: number }> = {
    direct: { plain: { url: `${upstream.url}/v1/chat/completions`, body: body(false), headers: {} }, stream: { url: `${upstream.url}/v1/chat/completions`, body: body(true), headers: {} } },
    floor: { plain: { url: `${floor.url}/v1/chat/completions`, body: body(false), headers: {} }, stream: { url: `${floor.url}/v1/chat/completions`, body: body(true), headers: {} }, pid: floor.pid },
    gateway: {
      plain: { url: `${gateway.url}/v1/chat/completions`, body: body(false), headers: { authorization: `Bearer ${VIRTUAL_KEY}` } },
      stream: { url: `${gateway.url}/v1/chat/completions`, body: body(true), headers: { authorization: `Bearer ${VIRTUAL_KEY}` } },
      pid: gateway.pid,
    },
    gatewayMaster: {
      plain: { url: `${gateway.url}/v1/chat/completions`, body: body(false), headers: { authorization: `Bearer ${MASTER_KEY}` } },
      stream: { url: `${gateway.url}/v1/chat/completions`, body: body(true), headers: { authorization: `Bearer ${MASTER_KEY}` } },
      pid: gateway.pid,
    },
  };

  const check = await fetch(targets.gateway.plain.url, { method: 'POST', headers: targets.gateway.plain.headers, body: targets.gateway.plain.body });
  if (!check.ok) throw new Error(`gateway check call failed: HTTP ${check.status} ${await check.text()}`);

  console.log(`Warming up ...`);
  // JIT, heap and the key's limiter state reach their steady state before anything is measured.
  for (const t of Object.values(targets)) await loadTest(t.plain, 50, 3);

  const samples: Record<string, PathResult[]> = { direct: [], floor: [], gateway: [], gatewayMaster: [] };
  if (values['profile-only']) return profile(gateway, gatewayConfig, env, process.env.BENCH_PROFILE_KEY === 'master' ? targets.gatewayMaster.plain : targets.gateway.plain);
  if (values['native-only']) {
    const least = await startWorkerd({ configFile: writeLeastGatewayConfig(work), env: { UPSTREAM: upstream.url }, port: await freePort(), storageDir: join(work, 'least-state') });
    cleanups.push(least.stop);
    const paths = await nativeProfilePaths(targets.floor.plain, floor.pid, least, targets.gateway.plain, gateway.pid);
    if (paths) console.log(`\n${renderNativeProfiles(await nativeProfiles(paths))}`);
    return;
  }
  for (let run = 1; run <= RUNS; run++) {
    const names = (Object.keys(targets) as (keyof typeof targets)[])
      .filter((name) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(name));
    // c=1 first, every path taking turns in short slices (interleavedLatency): the paths are compared
    // within milliseconds, which a slow minute of the host would otherwise bias.
    process.stdout.write(`run ${run}/${RUNS} c=1, paths taking turns ... `);
    const callsBeforeC1 = await limiterCalls(gateway.url);
    const c1s = await interleavedLatency(names.map((name) => targets[name].plain), C1_S);
    const callsAfterC1 = await limiterCalls(gateway.url);
    console.log(names.map((name, i) => `${name} p50 ${c1s[i]!.p50.toFixed(2)} ms`).join(', '));
    for (const [i, name] of names.entries()) {
      const t = targets[name];
      process.stdout.write(`run ${run}/${RUNS} ${name} ... `);
      const gatewayPath = name === 'gateway' || name === 'gatewayMaster';
      const c1 = c1s[i]!;
      const callsBefore = gatewayPath ? await limiterCalls(gateway.url) : undefined;
      const cpuBefore = t.pid ? cpuMs(t.pid) : 0;
      const c50 = await loadTest(t.plain, 50, C50_S);
      const c50EndedAt = Date.now();
      const callsAfterC50 = gatewayPath ? await limiterCalls(gateway.url) : undefined;
      const perRequest = (from: number | undefined, to: number | undefined, requests: number) =>
        from !== undefined && to !== undefined && requests > 0 ? (to - from) / requests : undefined;
      // The c=50 run leaves telemetry to write (in the same workerd): its CPU counts toward the run's
      // requests, and streams are timed once it is written.
      const lastWriteAt = gatewayPath ? await telemetryDrained(db.url) : undefined;
      const cpuPerRequest = t.pid && c50.requests ? (cpuMs(t.pid) - cpuBefore) / c50.requests : undefined;
      const stream = await streamTimings(t.stream, STREAMS);
      samples[name]?.push({
        c1, c50, stream, cpuPerRequestMs: cpuPerRequest, peakRssMb: t.pid ? peakRssMb(t.pid) : undefined,
        telemetryLagS: lastWriteAt === undefined ? undefined : Math.max(0, lastWriteAt - c50EndedAt) / 1000,
        // The c=1 phase's limiter calls are the virtual key's (the master key's calls make none).
        limiterCallsC1: name === 'gateway' ? perRequest(callsBeforeC1, callsAfterC1, c1.requests) : undefined,
        limiterCallsC50: perRequest(callsBefore, callsAfterC50, c50.requests),
      });
      console.log(`${c50.rps.toFixed(0)} req/s at c=50`);
    }
  }

  // Where the throughput goes, layer by layer (scripts/bench/breakdown.ts), before the delivery check so
  // the gateway's requests in it are checked too.
  let breakdown: BenchReport['breakdown'];
  let nativeProfile: { profiles: BenchReport['nativeProfile']; text: string } | undefined;
  if (!process.env.BENCH_ONLY && Number(values['breakdown-rounds']) > 0) {
    console.log('Throughput breakdown (floor, least gateway, queue elsewhere, gateway) ...');
    const sink = await startQueueSink();
    cleanups.push(sink.close);
    const elsewhereConfig = join(work, 'gateway-queue-elsewhere.capnp');
    writeFileSync(elsewhereConfig, queuesElsewhere(capnp, sink.address));
    const elsewhere = await startWorkerd({ configFile: elsewhereConfig, env, port: await freePort(), storageDir: join(work, 'elsewhere-state') });
    cleanups.push(elsewhere.stop);
    const least = await startWorkerd({ configFile: writeLeastGatewayConfig(work), env: { UPSTREAM: upstream.url }, port: await freePort(), storageDir: join(work, 'least-state') });
    cleanups.push(least.stop);
    const plain = (url: string, headers: Record<string, string>): Target => ({ url: `${url}/v1/chat/completions`, body: body(false), headers });
    breakdown = await throughputBreakdown([
      { name: 'floor (pass-through Worker)', target: targets.floor.plain, pid: floor.pid },
      { name: 'least gateway (parse, re-serialise, read usage, LiteLLM headers)', target: plain(least.url, {}), pid: least.pid },
      { name: 'Tollgate, its Queue messages sent out of the process', target: plain(elsewhere.url, targets.gateway.plain.headers), pid: elsewhere.pid },
      { name: 'Tollgate in-region (Queue and consumers on its thread)', target: targets.gateway.plain, pid: gateway.pid },
    ], db.url, Number(values['breakdown-rounds']));
    if (sink.messages() === 0) throw new Error('the queue-elsewhere gateway sent no Queue messages: the breakdown measured nothing');
    // Below JavaScript: the same paths under perf, by category of workerd's native code (native-profile.ts).
    const paths = await nativeProfilePaths(targets.floor.plain, floor.pid, least, targets.gateway.plain, gateway.pid);
    if (paths) {
      try {
        const profiles = await nativeProfiles(paths);
        nativeProfile = { profiles: profiles.map(({ bySymbolUs: _, ...rest }) => rest), text: renderNativeProfiles(profiles) };
      } catch (err) {
        // The measured runs are worth more than the profile: they are written without it.
        console.warn(`\n!!! native profile FAILED, left out: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      await telemetryDrained(db.url);
    }
    await elsewhere.stop();
    await least.stop();
  }

  const delivery = await deliveryCheck(gateway.url, db.url, langfuse.traces);
  const report: BenchReport = {
    date: new Date().toISOString(),
    delivery,
    breakdown,
    nativeProfile: nativeProfile?.profiles,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, workerd: await workerdVersion(), postgres: db.kind },
    method: { runs: RUNS, c1Seconds: C1_S, c50Seconds: C50_S, streams: STREAMS },
    paths: Object.fromEntries(Object.entries(samples).filter(([, list]) => list.length > 0).map(([name, list]) => [name, medianOf(list)])) as BenchReport['paths'],
  };
  const text = renderReport(report);
  console.log(`\n${text}`);
  if (nativeProfile) console.log(`\n${nativeProfile.text}`);
  if (INVESTIGATION) {
    console.log(`\nInvestigation run (${INVESTIGATION}): nothing written under bench/.`);
    return;
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench', 'results', `${report.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench', 'latest.md'), `${text}\n`);
  if (nativeProfile) writeFileSync(join(ROOT, 'bench', 'latest-native-profile.txt'), `${nativeProfile.text}\n`);

  if (values.profile || text.includes('MISSED')) await profile(gateway, gatewayConfig, env, targets.gateway.plain);
}

/** A CPU profile of the gateway under load, in a fresh workerd with its inspector on: where the time goes. */
async function profile(gateway: { stop(): Promise<unknown> }, configFile: string, env: Record<string, string>, target: Target) {
  console.log('\nProfiling the gateway under load (where its time goes) ...');
  await gateway.stop();
  const profiled = await startWorkerd({ configFile, env, port: await freePort(), storageDir: join(work, 'gateway-state'), inspectorPort: await freePort() });
  cleanups.push(profiled.stop);
  const summary = await profileUnderLoad(profiled, { ...target, url: `${profiled.url}/v1/chat/completions` });
  console.log(summary);
  if (!values['profile-only']) writeFileSync(join(ROOT, 'bench', 'latest-profile.txt'), `${summary}\n`);
}

/** The paths the native profile compares, or undefined (said loudly) where perf cannot record. */
async function nativeProfilePaths(floorTarget: Target, floorPid: number, least: { url: string; pid: number }, gatewayTarget: Target, gatewayPid: number) {
  const noPerf = await perfAvailable();
  if (noPerf) {
    console.warn(`\n!!! native profile SKIPPED: ${noPerf}\n`);
    return undefined;
  }
  console.log('Native profile (perf) of floor, least gateway and gateway ...');
  return [
    { name: 'floor', pid: floorPid, target: floorTarget },
    { name: 'least gateway', pid: least.pid, target: { url: `${least.url}/v1/chat/completions`, body: floorTarget.body, headers: {} } },
    { name: 'Tollgate', pid: gatewayPid, target: gatewayTarget },
  ];
}

async function workerdVersion(): Promise<string> {
  const { default: pkg } = await import('workerd/package.json', { with: { type: 'json' } }) as { default: { version: string } };
  return pkg.version;
}

try {
  await main();
} catch (err) {
  console.error('benchmark failed:', err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
