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
import { startBenchStack } from './bench/stack.ts';
import { writeFloorConfig } from './bench/floor-config.ts';
import { loadTest, type Target } from './bench/measure.ts';
import { profileUnderLoad } from './bench/profile.ts';
import { nativeProfilePaths, nativeProfiles, renderNativeProfiles } from './bench/native-profile.ts';
import { deliveryCheck } from './bench/gateway-state.ts';
import { type Layers, startLeastGateway, whereThroughputGoes } from './bench/layers.ts';
import { medianOf, renderReport, type BenchReport } from './bench/report.ts';
import { measureRuns } from './bench/runs.ts';
import { benchTargets } from './bench/targets.ts';
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
  const floor = await startWorkerd({ configFile: writeFloorConfig(work), env: { UPSTREAM: upstream.url }, port: await freePort(), storageDir: join(work, 'floor-state') });
  cleanups.push(floor.stop);
  const targets = benchTargets(upstream.url, floor, gateway);

  const check = await fetch(targets.gateway.plain.url, { method: 'POST', headers: targets.gateway.plain.headers, body: targets.gateway.plain.body });
  if (!check.ok) throw new Error(`gateway check call failed: HTTP ${check.status} ${await check.text()}`);

  console.log(`Warming up ...`);
  // JIT, heap and the key's limiter state reach their steady state before anything is measured.
  for (const t of Object.values(targets)) await loadTest(t.plain, 50, 3);

  if (values['profile-only']) return profile(gateway, gatewayConfig, env, process.env.BENCH_PROFILE_KEY === 'master' ? targets.gatewayMaster.plain : targets.gateway.plain);
  if (values['native-only']) {
    const paths = await nativeProfilePaths(targets, await startLeastGateway(work, upstream.url, cleanups));
    if (paths) console.log(`\n${renderNativeProfiles(await nativeProfiles(paths))}`);
    return;
  }
  const samples = await measureRuns(targets, {
    runs: RUNS, c1Seconds: C1_S, c50Seconds: C50_S, streams: STREAMS, only: process.env.BENCH_ONLY?.split(','), gatewayUrl: gateway.url, dbUrl: db.url,
  });

  // Where the throughput goes, layer by layer (bench/layers.ts), before the delivery check so the gateway's
  // requests in it are checked too.
  let layers: Layers | undefined;
  if (!process.env.BENCH_ONLY && Number(values['breakdown-rounds']) > 0) {
    layers = await whereThroughputGoes({ work, cleanups, capnp, env, upstreamUrl: upstream.url, targets, dbUrl: db.url, rounds: Number(values['breakdown-rounds']) });
  }

  const delivery = await deliveryCheck(gateway.url, db.url, langfuse.traces);
  const report: BenchReport = {
    date: new Date().toISOString(),
    delivery,
    breakdown: layers?.breakdown,
    nativeProfile: layers?.nativeProfile?.profiles,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, workerd: await workerdVersion(), postgres: db.kind },
    method: { runs: RUNS, c1Seconds: C1_S, c50Seconds: C50_S, streams: STREAMS },
    paths: Object.fromEntries(Object.entries(samples).filter(([, list]) => list.length > 0).map(([name, list]) => [name, medianOf(list)])) as BenchReport['paths'],
  };
  const text = renderReport(report);
  const nativeText = layers?.nativeProfile?.text;
  console.log(`\n${text}`);
  if (nativeText) console.log(`\n${nativeText}`);
  if (INVESTIGATION) {
    console.log(`\nInvestigation run (${INVESTIGATION}): nothing written under bench/.`);
    return;
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench', 'results', `${report.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench', 'latest.md'), `${text}\n`);
  if (nativeText) writeFileSync(join(ROOT, 'bench', 'latest-native-profile.txt'), `${nativeText}\n`);

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
