/**
 * A pod of the chart, run on this machine as Kubernetes would run it, from the images laid out
 * from their Dockerfiles: each container's command, args and env exactly as `helm template`
 * renders them (Secrets resolved from a map, $(VAR) expanded), the image's paths under the laid-out
 * root. The migration Job, the prepare init container, the sidecars and their startup probes,
 * workerd from the image's ENTRYPOINT with its probes, a request whose spend log reaches Postgres
 * through the WebSocket proxy sidecar, and the stop sequence.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execForm, parseDockerfile } from '../deploy/tools/dockerfile.ts';
import { findHelm } from '../deploy/tools/helm.ts';
import { type ImageLayout, layoutImage } from '../deploy/tools/image-layout.ts';
import { type Manifest, parseManifests, podContainers } from '../deploy/tools/manifests.ts';
import { ROOT } from '../scripts/lib/build.ts';
import { freePort } from '../scripts/lib/free-port.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { hasRedis } from './support/redis.ts';

const helm = findHelm(ROOT);
const MASTER_KEY = 'sk-pod-master-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'tollgate-pod-'));
const dataDir = join(dir, 'data');
const running: ChildProcess[] = [];

let gateway: ImageLayout;
let tools: ImageLayout;
let db: TestDatabase;
let manifests: Manifest[];
let secrets: Record<string, Record<string, string>>;
let httpPort: number;

afterAll(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const pod = () => manifests.find((m) => m.kind === 'Deployment')!.spec.template.spec;
const containerOf = (name: string) => podContainers(pod()).find((c) => c.name === name);

/** A container's environment as the kubelet builds it: Secrets looked up, $(VAR) from earlier entries. */
function envOf(c: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secrets[ref.name]?.[ref.key];
      if (value === undefined && !ref.optional) throw new Error(`Secret ${ref.name}/${ref.key} missing for ${c.name}`);
      if (value !== undefined) env[e.name] = value;
    } else if (e.valueFrom?.fieldRef) {
      env[e.name] = '127.0.0.1';
    } else {
      env[e.name] = String(e.value).replace(/\$\(([A-Za-z_]\w*)\)/g, (m, name: string) => env[name] ?? m);
    }
  }
  return env;
}

/** The image's absolute paths under the laid-out root; the pod's /data under dataDir. */
const inImage = (text: string) => text.replace(/(^|[\s"'=(])\/(app|data)\//g, (_, pre: string, top: string) => `${pre}${top === 'data' ? dataDir : join(gateway.root, 'app')}/`);

function start(command: string[], options: { cwd: string; env: Record<string, string> }): ChildProcess & { output: () => string } {
  let output = '';
  const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  running.push(child);
  return Object.assign(child, { output: () => output });
}

/** The tools image's processes find `node` and `npm` on PATH, as in the node image. */
const toolsEnv = (c: any) => ({ PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}`, HOME: dir, NPM_CONFIG_UPDATE_NOTIFIER: 'false', ...envOf(c) });

async function runProbe(c: any): Promise<void> {
  await eventually(async () => (spawnSync(c.startupProbe.exec.command[0], c.startupProbe.exec.command.slice(1), { env: toolsEnv(c) }).status === 0 ? true : undefined), 15_000);
}

describe.skipIf(!helm)('a pod of the chart, from the laid-out images', () => {
  beforeAll(async () => {
    gateway = layoutImage({ dockerfile: join(ROOT, 'deploy', 'Dockerfile'), context: ROOT, dir: join(dir, 'gateway') });
    tools = layoutImage({ dockerfile: join(ROOT, 'deploy', 'Dockerfile.tools'), context: ROOT, dir: join(dir, 'tools') });
    db = await freshDatabase();
    httpPort = await freePort();
    const [proxyPort, bridgePort] = [await freePort(), await freePort()];
    const redis = hasRedis() ? ['--set', 'redis.enabled=true', '--set', 'redis.urlSecret.name=redis', '--set', `redis.bridge.port=${bridgePort}`] : [];
    const out = execFileSync(helm!, ['template', 'pod', join(ROOT, 'deploy', 'helm', 'tollgate'), '--set', `db.wsproxy.port=${proxyPort}`, ...redis], { encoding: 'utf8' });
    manifests = parseManifests(out);
    secrets = { 'tollgate-master': { 'master-key': MASTER_KEY }, 'tollgate-db': { 'database-url': db.url }, redis: { url: hasRedis() ? inject('redisUrl')! : '' } };
    for (const s of manifests.filter((m) => m.kind === 'Secret')) {
      secrets[String(s.metadata?.name)] = Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    }
  }, 180_000);

  it('the migration Job: its command migrates the database from the tools image', () => {
    const job = manifests.find((m) => m.kind === 'Job')!.spec.template.spec.containers[0];
    const run = spawnSync(job.command[0], job.command.slice(1), { cwd: join(tools.root, 'app'), env: toolsEnv(job), encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('Migrations applied.');
  }, 90_000);

  it('the prepare init container: accepts the image built from this proxy_config, creates /data/do and /data/queues', () => {
    const prepare = containerOf('prepare');
    const run = (env: Record<string, string>) => spawnSync(prepare.command[0], [...prepare.command.slice(1, -1), inImage(prepare.command.at(-1))], { env, encoding: 'utf8' });
    const refused = run({ TOLLGATE_CONFIG_SHA256: 'f'.repeat(64) });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("another config.yaml than the chart's proxy_config");
    expect(existsSync(join(dataDir, 'do'))).toBe(false);
    const accepted = run(envOf(prepare));
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'do')) && existsSync(join(dataDir, 'queues'))).toBe(true);
  });

  it('the sidecars start from their commands, bound to loopback, and pass their startup probes', async () => {
    const names = pod().initContainers.filter((c: any) => c.restartPolicy === 'Always').map((c: any) => c.name);
    expect(names).toEqual(hasRedis() ? ['wsproxy', 'redis-bridge'] : ['wsproxy']);
    for (const name of names) {
      const c = containerOf(name);
      const child = start([...c.command, ...c.args], { cwd: join(tools.root, 'app'), env: toolsEnv(c) });
      await runProbe(c).catch((err) => {
        throw new Error(`${name}: ${String(err)}\n${child.output()}`);
      });
    }
    if (hasRedis()) {
      const bridge = containerOf('redis-bridge');
      const res = await fetch(`http://127.0.0.1:${bridge.args[3]}`, { method: 'POST', headers: { authorization: `Bearer ${envOf(bridge).UPSTASH_REDIS_REST_TOKEN}` }, body: '["PING"]' });
      expect(await res.json()).toEqual({ result: 'PONG' });
    }
  }, 60_000);

  it('workerd from the ENTRYPOINT: probes answer, Postgres through the sidecar, a request and its spend log, then the stop sequence', async () => {
    const w = containerOf('workerd');
    const entrypoint = execForm(parseDockerfile(join(ROOT, 'deploy', 'Dockerfile')).stages.at(-1)!.instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args)!;
    const argv = [...entrypoint, ...(w.args ?? [])].map((a) => inImage(a).replace('http=*:8080', `http=127.0.0.1:${httpPort}`));
    const workerd = start(argv, { cwd: join(gateway.root, 'app'), env: envOf(w) });
    const base = `http://127.0.0.1:${httpPort}`;
    await eventually(async () => ((await fetch(`${base}${w.startupProbe.httpGet.path}`).catch(() => undefined))?.ok ? true : undefined), 30_000).catch((err) => {
      throw new Error(`${String(err)}\n${workerd.output()}`);
    });
    expect(await (await fetch(`${base}${w.livenessProbe.httpGet.path}`)).json()).toBe("I'm alive!");
    const ready = await fetch(`${base}${w.readinessProbe.httpGet.path}`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'connected', db: 'connected' });

    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hello from the pod' }] }),
    });
    expect(res.status).toBe(200);
    const callId = res.headers.get('x-litellm-call-id')!;
    const row = await eventually(() => spendLogRow(db.url, callId), 20_000);
    expect(row.model_group).toBe('mock-gpt');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);

    // preStop has slept (the endpoints dropped the pod); SIGTERM, and workerd exits well within the grace period.
    const grace = pod().terminationGracePeriodSeconds * 1000;
    const t0 = Date.now();
    const exited = new Promise((resolve) => workerd.once('exit', resolve));
    workerd.kill('SIGTERM');
    await exited;
    expect(Date.now() - t0).toBeLessThan(grace - w.lifecycle.preStop.exec.command[1] * 1000);
    // Native sidecars get SIGTERM after workerd has exited, and end cleanly.
    for (const child of running.filter((c) => c !== workerd && c.exitCode === null)) {
      const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await done).toBe(0);
    }
    expect(readFileSync(join(gateway.root, 'app', 'config.sha256'), 'utf8').trim()).toBe(envOf(containerOf('prepare')).TOLLGATE_CONFIG_SHA256);
  }, 90_000);
});
