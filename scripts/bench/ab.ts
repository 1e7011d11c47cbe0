/**
 * `node scripts/bench/ab.ts [--base REF] [--rounds N] [--seconds S] [--b-v8-flags "..."] [--b-master]`: the
 * gateway at REF (default HEAD, from a git worktree) against the working
 * tree, side by side on one machine, for judging a change smaller than this
 * machine's run-to-run noise (±10%). Both gateways run at once on the same
 * Postgres, upstream and Langfuse sink; the c=50 load alternates between
 * them in short rounds (A, B, B, A, ...), so a slow spell of the host falls
 * on both. Reports each side's throughput and CPU per request (its workerd
 * process, telemetry written included: measured until both have drained).
 * An investigation tool, not the published benchmark (`npm run bench`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/build.ts';
import { freePort } from '../lib/free-port.ts';
import { WELL_KNOWN_ENV } from '../lib/stack.ts';
import { startWorkerd } from '../lib/workerd-process.ts';
import { type BreakdownPath, type BreakdownResult, throughputBreakdown } from './breakdown.ts';
import { MASTER_KEY, startBenchStack, VIRTUAL_KEY } from './stack.ts';
import { chatTarget } from './targets.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '3' },
    'b-v8-flags': { type: 'string' },
    'b-master': { type: 'boolean', default: false },
  },
});
const work = mkdtempSync(join(tmpdir(), 'tollgate-ab-'));
const cleanups: (() => Promise<unknown>)[] = [async () => rmSync(work, { recursive: true, force: true })];

/** Bundles and a workerd config built by the checkout at `root` with its own build code. */
function buildAt(root: string, configFile: string, out: string, env: Record<string, string>): string {
  const script = `
    import { writeFileSync } from 'node:fs';
    const { buildAll } = await import(${JSON.stringify(join(root, 'scripts/lib/build.ts'))});
    const { generateWorkerdConfig } = await import(${JSON.stringify(join(root, 'scripts/lib/workerd-config.ts'))});
    const build = await buildAll(${JSON.stringify(configFile)}, ${JSON.stringify(join(out, 'build'))}, ${JSON.stringify(env)});
    writeFileSync(${JSON.stringify(join(out, 'gateway.capnp'))}, generateWorkerdConfig({
      gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin,
      envNames: ${JSON.stringify([...new Set([...WELL_KNOWN_ENV, 'DATABASE_URL', 'DATABASE_WSPROXY'])])}, configDir: ${JSON.stringify(out)},
    }));`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: 'inherit' });
  return join(out, 'gateway.capnp');
}

async function main() {
  const { db, configFile, env } = await startBenchStack(work, cleanups, { langfuse: true });

  const baseTree = join(work, 'base-tree');
  execFileSync('git', ['worktree', 'add', '--detach', baseTree, values.base], { cwd: ROOT, stdio: 'ignore' });
  cleanups.push(async () => execFileSync('git', ['worktree', 'remove', '--force', baseTree], { cwd: ROOT, stdio: 'ignore' }));
  execFileSync('ln', ['-s', join(ROOT, 'node_modules'), join(baseTree, 'node_modules')]);
  const sides = [
    { name: `A (${values.base})`, capnp: buildAt(baseTree, configFile, join(work, 'a'), env), dir: 'a' },
    { name: 'B (working tree)', capnp: buildAt(ROOT, configFile, join(work, 'b'), env), dir: 'b' },
  ];
  // B's workerd with V8 flags (--b-v8-flags "--flag ..."), for trying the runtime's settings.
  if (values['b-v8-flags']) {
    const b = sides[1] as { capnp: string };
    const flags = values['b-v8-flags'].split(' ').map((f) => JSON.stringify(f)).join(', ');
    writeFileSync(b.capnp, readFileSync(b.capnp, 'utf8').replace('const config :Workerd.Config = (', `const config :Workerd.Config = (v8Flags = [${flags}], `));
  }
  const paths: BreakdownPath[] = [];
  for (const side of sides) {
    const w = await startWorkerd({ configFile: side.capnp, env, port: await freePort(), storageDir: join(work, `${side.dir}-state`) });
    cleanups.push(w.stop);
    // --b-master: B is called with the master key (no limiter), for what the virtual key's admission costs.
    const key = side.dir === 'b' && values['b-master'] ? MASTER_KEY : VIRTUAL_KEY;
    paths.push({ name: side.name, pid: w.pid, target: chatTarget(w.url, { authorization: `Bearer ${key}` }) });
  }
  console.log('Warming up and measuring ...');
  const [a, b] = await throughputBreakdown(paths, db.url, Number(values.rounds), Number(values.seconds), false) as [BreakdownResult, BreakdownResult];
  for (const r of [a, b]) console.log(`${r.name}: ${r.rps.toFixed(0)} req/s at c=50, CPU ${r.cpuPerRequestMs.toFixed(4)} ms a request`);
  console.log(`B/A: throughput ${((b.rps / a.rps) * 100).toFixed(1)}%, CPU a request ${((b.cpuPerRequestMs / a.cpuPerRequestMs) * 100).toFixed(1)}%`);
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}
