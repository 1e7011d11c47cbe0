// temporary investigation: floor against the gateway (virtual key), alternating c=50 rounds
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAll } from '../lib/build.ts';
import { freePort } from '../lib/free-port.ts';
import { WELL_KNOWN_ENV } from '../lib/stack.ts';
import { generateWorkerdConfig } from '../lib/workerd-config.ts';
import { startWorkerd } from '../lib/workerd-process.ts';
import { throughputBreakdown, renderBreakdown } from './breakdown.ts';
import { writeFloorConfig } from './floor-config.ts';
import { startBenchStack, VIRTUAL_KEY } from './stack.ts';
import { chatTarget } from './targets.ts';

const cleanups: (() => Promise<unknown>)[] = [];
const work = mkdtempSync(join(tmpdir(), 'tollgate-inv-'));
cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
try {
  const { configFile, env, upstream, db } = await startBenchStack(work, cleanups, { langfuse: true });
  const build = await buildAll(configFile, join(work, 'build'), env);
  const capnp = join(work, 'gateway.capnp');
  writeFileSync(capnp, generateWorkerdConfig({ gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames: [...new Set([...WELL_KNOWN_ENV, 'DATABASE_URL', 'DATABASE_WSPROXY'])], configDir: work }));
  const gw = await startWorkerd({ configFile: capnp, env, port: await freePort(), storageDir: join(work, 'state') });
  cleanups.push(gw.stop);
  const floor = await startWorkerd({ configFile: writeFloorConfig(work), env: { UPSTREAM: upstream.url }, port: await freePort(), storageDir: join(work, 'floor-state') });
  cleanups.push(floor.stop);
  const r = await throughputBreakdown([
    { name: 'floor', pid: floor.pid, target: chatTarget(floor.url) },
    { name: 'gateway', pid: gw.pid, target: chatTarget(gw.url, { authorization: `Bearer ${VIRTUAL_KEY}` }) },
  ], db.url, Number(process.env.ROUNDS ?? 6), 3);
  console.log(renderBreakdown(r));
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}
