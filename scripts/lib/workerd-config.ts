import { relative, resolve } from 'node:path';
import { collectEnvRefs } from '../../worker/config/env-ref.ts';
import { ROOT, WORKERS } from './build.ts';
import { q, render, type Value } from './capnp.ts';
import { cronWorker, queueConsumers, queuesWorker, WORKERD_SERVICES, type WorkerSource } from './workerd-bundled.ts';
import { clusterFields, type WorkerdClusterOptions } from './workerd-cluster.ts';
import { readWranglerConfig, workerValue } from './workerd-worker.ts';
import { WELL_KNOWN_ENV } from './stack.ts';

export { q } from './capnp.ts';
export { WORKERD_SERVICES } from './workerd-bundled.ts';
export { readWranglerConfig } from './workerd-worker.ts';

/** What the standalone workerd config is generated from, and where it will run. */
export interface WorkerdConfigOptions {
  /** Paths of the bundles from buildAll(). */
  gatewayScript: string;
  adminScript: string;
  /** The gateway's socket address (default '*:8080'); at run time --socket-addr http=HOST:PORT */
  address?: string;
  /** A second socket, `admin`, for the admin Worker on its own address. */
  adminAddress?: string;
  /** Bindings read from the process environment (`fromEnvironment`): secrets and vars; see workerdEnvNames(). */
  envNames: string[];
  /** Durable Object and queue storage (default DEFAULT_STORAGE; at run time --directory-path do-storage=DIR / queue-storage=DIR). */
  doStorage?: string;
  queueStorage?: string;
  /**
   * Where the config file will be: capnp `embed` takes only paths relative to it. By default the
   * directory holding buildAll()'s dir (`<out>/config.capnp` beside `<out>/build/`).
   */
  configDir?: string;
  /** The wrangler configs to read (default: the repo's two). */
  wranglerConfigs?: { gateway: string; admin: string };
  /**
   * Several replicas sharing each Durable Object through a bucket (`Config.cluster`, see
   * workerd-cluster.ts). Absent: one instance owning its objects on its own disk, as before.
   */
  cluster?: WorkerdClusterOptions;
}

/** Socket names, for `--socket-addr NAME=HOST:PORT`. */
export const WORKERD_SOCKETS = { gateway: 'http', admin: 'admin' } as const;

/** Relative to workerd's cwd, so the config runs anywhere; override with `--directory-path`. */
export const DEFAULT_STORAGE = { doStorage: 'data/do', queueStorage: 'data/queues' } as const;

/**
 * Cap'n Proto text for standalone workerd from the two wrangler configs (read by wrangler), so the
 * bindings live in one place: a service per Worker, workerd's bundled Queues and cron Workers,
 * Durable Objects from the migrations, a private-network `internet`, disks for state, `envNames`
 * as `fromEnvironment`. Run with `workerd serve FILE --experimental`.
 */
export function generateWorkerdConfig(options: WorkerdConfigOptions): string {
  const files = options.wranglerConfigs ?? WORKERS;
  const workers: WorkerSource[] = [
    { config: readWranglerConfig(files.gateway), script: options.gatewayScript },
    { config: readWranglerConfig(files.admin), script: options.adminScript },
  ].map((w) => ({ ...w, name: w.config.name ?? '' }));
  const names = new Set(workers.map((w) => w.name));
  for (const reserved of Object.values(WORKERD_SERVICES)) {
    if (names.has(reserved)) throw new Error(`a Worker may not be named "${reserved}" (a workerd service)`);
  }
  // buildAll() writes <dir>/gateway/index.js: by default the config sits beside <dir>.
  const configDir = resolve(options.configDir ?? resolve(options.gatewayScript, '../../..'));
  const consumers = queueConsumers(workers);
  const crons = workers.filter((w) => (w.config.triggers.crons ?? []).length > 0);
  const usesQueues = consumers.size > 0 || workers.some((w) => (w.config.queues.producers ?? []).length > 0);

  const services: Value[] = workers.map((w) => ({ name: q(w.name), worker: workerValue(w, names, options.envNames, configDir) }));
  if (usesQueues) services.push({ name: q(WORKERD_SERVICES.queues), worker: queuesWorker(consumers, !!options.cluster) });
  if (crons.length) services.push({ name: q(WORKERD_SERVICES.cron), worker: cronWorker(crons) });
  services.push(
    // So Workers reach the Postgres proxy, vLLM and other in-cluster upstreams on private and loopback addresses.
    { name: q(WORKERD_SERVICES.internet), network: { allow: ['"public"', '"private"', '"local"'], tlsOptions: { trustBrowserCas: 'true' } } },
    { name: q(WORKERD_SERVICES.doStorage), disk: { path: q(options.doStorage ?? DEFAULT_STORAGE.doStorage), writable: 'true' } },
    { name: q(WORKERD_SERVICES.queueStorage), disk: { path: q(options.queueStorage ?? DEFAULT_STORAGE.queueStorage), writable: 'true' } },
  );

  const [gateway, admin] = workers as [WorkerSource, WorkerSource];
  const sockets: Value[] = [{ name: q(WORKERD_SOCKETS.gateway), address: q(options.address ?? '*:8080'), http: {}, service: q(gateway.name) }];
  if (options.adminAddress) {
    sockets.push({ name: q(WORKERD_SOCKETS.admin), address: q(options.adminAddress), http: {}, service: q(admin.name) });
  }

  const cluster = options.cluster ? clusterValue(options.cluster, configDir) : undefined;
  return [
    `# Generated by scripts/workerd-config.ts from ${workers.map((w) => relative(ROOT, w.config.configPath ?? '')).join(' and ')}; do not edit.`,
    '# workerd serve FILE --experimental [--socket-addr http=ADDR] [--directory-path do-storage|queue-storage=DIR]',
    ...(cluster ? ['# Cluster: the same file on every instance; per instance [--cluster-addr ADDR] [--cluster-advertise HOST:PORT].'] : []),
    'using Workerd = import "/workerd/workerd.capnp";',
    '',
    `const config :Workerd.Config = ${render({ services, sockets, cluster })};`,
    '',
  ].join('\n');
}

/** What the Workers read from the environment: the database's, the well-known names, each `os.environ/NAME`. */
export function workerdEnvNames(compiledConfig: unknown, extra: string[] = []): string[] {
  return [...new Set(['DATABASE_URL', 'DATABASE_WSPROXY', ...WELL_KNOWN_ENV, ...collectEnvRefs(compiledConfig), ...extra])];
}

/** `Config.cluster`: the key is embedded from its file when workerd starts, never written into the config. */
function clusterValue(options: WorkerdClusterOptions, configDir: string): Value {
  const c = clusterFields(options, configDir);
  return {
    bucket: q(c.bucket),
    bucketOptions: c.bucketOptions.length ? c.bucketOptions.map(q) : undefined,
    address: q(c.address),
    advertise: c.advertise === undefined ? undefined : q(c.advertise),
    key: `embed ${q(c.keyEmbed)}`,
    stopTimeoutMs: c.stopTimeoutMs === undefined ? undefined : String(c.stopTimeoutMs),
    unsafeTimeDivisor: c.unsafeTimeDivisor === undefined ? undefined : String(c.unsafeTimeDivisor),
  };
}
