import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lib/free-port.ts';
import { startWorkerd, type WorkerdProcess } from '../lib/workerd-process.ts';
import { queuesElsewhere, startQueueSink, throughputBreakdown } from './breakdown.ts';
import { writeLeastGatewayConfig } from './floor-config.ts';
import { telemetryDrained } from './gateway-state.ts';
import { nativeProfilePaths, nativeProfiles, renderNativeProfiles } from './native-profile.ts';
import type { BenchReport } from './report.ts';
import { chatTarget, type PathName, type PathTarget } from './targets.ts';

export interface LayersInput {
  work: string;
  cleanups: (() => Promise<unknown>)[];
  /** The gateway's generated workerd config, rewritten for the queue-elsewhere path. */
  capnp: string;
  env: Record<string, string>;
  upstreamUrl: string;
  targets: Record<PathName, PathTarget>;
  dbUrl: string;
  rounds: number;
}

export interface Layers {
  breakdown: BenchReport['breakdown'];
  nativeProfile?: { profiles: BenchReport['nativeProfile']; text: string };
}

/** The least-gateway Worker (least-gateway-worker.js) in its own workerd, stopped with the run. */
export async function startLeastGateway(work: string, upstreamUrl: string, cleanups: (() => Promise<unknown>)[]): Promise<WorkerdProcess> {
  const least = await startWorkerd({ configFile: writeLeastGatewayConfig(work), env: { UPSTREAM: upstreamUrl }, port: await freePort(), storageDir: join(work, 'least-state') });
  cleanups.push(least.stop);
  return least;
}

/**
 * Where the throughput goes: the floor, the least gateway, Tollgate with its
 * Queue messages leaving the process, and Tollgate in-region, c=50 alternating
 * between them (breakdown.ts); then the same paths under perf by category of
 * native code (native-profile.ts), which is left out, loudly, where perf fails.
 */
export async function whereThroughputGoes(i: LayersInput): Promise<Layers> {
  console.log('Throughput breakdown (floor, least gateway, queue elsewhere, gateway) ...');
  const { floor, gateway } = i.targets;
  const sink = await startQueueSink();
  i.cleanups.push(sink.close);
  const elsewhereConfig = join(i.work, 'gateway-queue-elsewhere.capnp');
  writeFileSync(elsewhereConfig, queuesElsewhere(i.capnp, sink.address));
  const elsewhere = await startWorkerd({ configFile: elsewhereConfig, env: i.env, port: await freePort(), storageDir: join(i.work, 'elsewhere-state') });
  i.cleanups.push(elsewhere.stop);
  const least = await startLeastGateway(i.work, i.upstreamUrl, i.cleanups);
  const breakdown = await throughputBreakdown([
    { name: 'floor (pass-through Worker)', target: floor.plain, pid: floor.pid as number },
    { name: 'least gateway (parse, re-serialise, read usage, LiteLLM headers)', target: chatTarget(least.url), pid: least.pid },
    { name: 'Tollgate, its Queue messages sent out of the process', target: chatTarget(elsewhere.url, gateway.plain.headers), pid: elsewhere.pid },
    { name: 'Tollgate in-region (Queue and consumers on its thread)', target: gateway.plain, pid: gateway.pid as number },
  ], i.dbUrl, i.rounds);
  if (sink.messages() === 0) throw new Error('the queue-elsewhere gateway sent no Queue messages: the breakdown measured nothing');

  let nativeProfile: Layers['nativeProfile'];
  const paths = await nativeProfilePaths(i.targets, least);
  if (paths) {
    try {
      const profiles = await nativeProfiles(paths);
      nativeProfile = { profiles: profiles.map(({ bySymbolUs: _, ...rest }) => rest), text: renderNativeProfiles(profiles) };
    } catch (err) {
      // The measured runs are worth more than the profile: they are written without it.
      console.warn(`\n!!! native profile FAILED, left out: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    await telemetryDrained(i.dbUrl);
  }
  await elsewhere.stop();
  await least.stop();
  return { breakdown, nativeProfile };
}
