import { relative, resolve } from 'node:path';
import { type Unstable_Config, unstable_readConfig } from 'wrangler';
import { collectEnvRefs } from '../../worker/config/env-ref.ts';
import { ROOT, WORKERS } from './build.ts';
import { clusterFields, type WorkerdClusterOptions } from './workerd-cluster.ts';
import { WELL_KNOWN_ENV } from './stack.ts';

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

/** The services added beside the Workers (the disks are `--directory-path` names). */
export const WORKERD_SERVICES = {
  queues: 'queues', cron: 'cron', internet: 'internet', doStorage: 'do-storage', queueStorage: 'queue-storage',
} as const;

/** Socket names, for `--socket-addr NAME=HOST:PORT`. */
export const WORKERD_SOCKETS = { gateway: 'http', admin: 'admin' } as const;

/** Relative to workerd's cwd, so the config runs anywhere; override with `--directory-path`. */
export const DEFAULT_STORAGE = { doStorage: 'data/do', queueStorage: 'data/queues' } as const;

/** The date workerd's own wrangler converter gives queues.js and cron.js. */
const BUNDLED_WORKER_DATE = '2026-01-01';

/** Bindings not translated (yet): refused, rather than a Worker missing one at run time. */
const UNSUPPORTED = [
  'kv_namespaces', 'r2_buckets', 'd1_databases', 'hyperdrive', 'workflows', 'analytics_engine_datasets', 'vectorize',
  'send_email', 'dispatch_namespaces', 'mtls_certificates', 'secrets_store_secrets', 'pipelines', 'ratelimits',
  'worker_loaders', 'vpc_services', 'tail_consumers', 'streaming_tail_consumers', 'containers', 'logfwdr',
  'ai', 'browser', 'images', 'media', 'version_metadata', 'assets', 'artifacts', 'unsafe', 'exports',
] as const;

type WorkerSource = { name: string; config: Unstable_Config; script: string };

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

/** A Worker's wrangler config, as `wrangler deploy` reads it. */
export function readWranglerConfig(file: string): Unstable_Config {
  const config = unstable_readConfig({ config: file }, { hideWarnings: true });
  if (!config.name) throw new Error(`${file}: a Worker for workerd needs a name`);
  const record = config as unknown as Record<string, unknown>;
  const unsupported = UNSUPPORTED.filter((key) => !isEmpty(record[key]));
  if (unsupported.length) throw new Error(`${file}: not translated for workerd yet: ${unsupported.join(', ')}`);
  return config;
}

/** Wrangler fills absent sections with `[]`, `{}`, `{bindings: []}`. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.values(value).every(isEmpty);
}

function workerValue(w: WorkerSource, workers: Set<string>, envNames: string[], configDir: string): Value {
  const c = w.config;
  const bindings: Value[] = [];
  const bound = new Set<string>();
  const bind = (name: string, kind: string, value: Value) => {
    if (bound.has(name)) throw new Error(`${w.name}: binding ${name} is declared twice`);
    bound.add(name);
    bindings.push({ name: q(name), [kind]: value });
  };
  const known = (kind: string, target: string) => {
    if (!workers.has(target)) throw new Error(`${w.name}: ${kind} names "${target}", not a Worker here`);
  };

  for (const [name, value] of Object.entries(c.vars ?? {})) {
    bind(name, typeof value === 'string' ? 'text' : 'json', q(typeof value === 'string' ? value : JSON.stringify(value)));
  }
  for (const s of c.services ?? []) {
    known(`service binding ${s.binding}`, s.service);
    bind(s.binding, 'service', designator(s.service, s.entrypoint, s.props));
  }
  for (const p of c.queues.producers ?? []) {
    // The bundled Queues Worker learns the queue's name from the binding's props.
    bind(p.binding, 'queue', { name: q(WORKERD_SERVICES.queues), props: { json: q(JSON.stringify({ queue: p.queue })) } });
  }
  const namespaces = durableObjectNamespaces(w.name, c);
  for (const d of c.durable_objects.bindings ?? []) {
    const owner = d.script_name ?? w.name;
    if (owner !== w.name) known(`Durable Object binding ${d.name}`, owner);
    else if (!namespaces.has(d.class_name)) namespaces.set(d.class_name, { uniqueKey: `${w.name}-${d.class_name}`, sql: false });
    bind(d.name, 'durableObjectNamespace', { className: q(d.class_name), serviceName: owner === w.name ? undefined : q(owner) });
  }
  // Vars win over the environment, as on Cloudflare, where a secret may not take a var's name.
  for (const name of new Set([...envNames, ...(c.secrets?.required ?? [])])) {
    if (!bound.has(name)) bind(name, 'fromEnvironment', q(name));
  }

  const rel = relative(configDir, resolve(w.script)).split('\\').join('/');
  return {
    modules: [{ name: q('index.js'), esModule: `embed ${q(rel)}` }],
    compatibilityDate: q(c.compatibility_date ?? BUNDLED_WORKER_DATE),
    compatibilityFlags: (c.compatibility_flags ?? []).map(q),
    bindings,
    durableObjectNamespaces: namespaces.size
      ? [...namespaces].map(([className, ns]) => ({ className: q(className), uniqueKey: q(ns.uniqueKey), enableSql: String(ns.sql) }))
      : undefined,
    durableObjectStorage: namespaces.size ? { localDisk: q(WORKERD_SERVICES.doStorage) } : undefined,
  };
}

/**
 * The Durable Object classes a Worker's migrations define. A renamed class keeps
 * its first `uniqueKey`, where workerd keeps its objects, so it keeps its data as on Cloudflare.
 */
function durableObjectNamespaces(worker: string, c: Unstable_Config): Map<string, { uniqueKey: string; sql: boolean }> {
  const classes = new Map<string, { uniqueKey: string; sql: boolean }>();
  const fresh = (name: string, sql: boolean) => classes.set(name, { uniqueKey: `${worker}-${name}`, sql });
  for (const m of c.migrations ?? []) {
    for (const name of m.new_classes ?? []) fresh(name, false);
    for (const name of m.new_sqlite_classes ?? []) fresh(name, true);
    for (const { from, to } of m.renamed_classes ?? []) {
      const ns = classes.get(from);
      classes.delete(from);
      if (ns) classes.set(to, ns);
      else fresh(to, false);
    }
    for (const { to } of m.transferred_classes ?? []) fresh(to, false);
    for (const name of m.deleted_classes ?? []) classes.delete(name);
  }
  return classes;
}

/** Each queue's consumer in the shape queues.js reads (`CONSUMERS`), with wrangler's settings renamed. */
function queueConsumers(workers: WorkerSource[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const w of workers) {
    for (const c of w.config.queues.consumers ?? []) {
      if (out.has(c.queue)) throw new Error(`queue ${c.queue} has two consumers; Cloudflare allows one`);
      const settings = {
        consumer: w.name, maxBatchSize: c.max_batch_size, maxBatchTimeout: c.max_batch_timeout, maxRetries: c.max_retries,
        deadLetterQueue: c.dead_letter_queue, retryDelay: c.retry_delay, maxConcurrency: c.max_concurrency ?? undefined,
      };
      out.set(c.queue, Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)));
    }
  }
  return out;
}

/**
 * workerd's bundled Queues Worker (`/workerd/queues.js`, see its header), with a
 * service binding per consumer Worker named after it. The `QueueShard` uniqueKey
 * and disk are where undelivered messages live, so both stay fixed.
 */
function queuesWorker(consumers: Map<string, Record<string, unknown>>, clustered: boolean): Value {
  const targets = new Set([...consumers.values()].map((c) => String(c.consumer)));
  return bundledWorker('queues.js', [
    { name: q('SHARD'), durableObjectNamespace: { className: q('QueueShard') } },
    { name: q('CONSUMERS'), json: q(JSON.stringify(Object.fromEntries(consumers))) },
    // In a cluster each isolate sends to a shard of its own (a random token), so sends spread with the instances.
    ...(clustered ? [{ name: q('CLUSTERED'), json: q('true') }] : []),
    ...[...targets].map((t) => ({ name: q(t), service: q(t) })),
  ], 'QueueShard', WORKERD_SERVICES.queueStorage);
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

/** workerd's bundled cron Worker (`/workerd/cron.js`): one schedule per Worker with `triggers.crons`. */
function cronWorker(workers: WorkerSource[]): Value {
  const crons = Object.fromEntries(workers.map((w) => [w.name, w.config.triggers.crons ?? []]));
  return bundledWorker('cron.js', [
    { name: q('SCHEDULE'), durableObjectNamespace: { className: q('Schedule') } },
    { name: q('CRONS'), json: q(JSON.stringify(crons)) },
    ...workers.map((w) => ({ name: q(w.name), service: q(w.name) })),
  ], 'Schedule', WORKERD_SERVICES.doStorage);
}

function bundledWorker(module: string, bindings: Value[], className: string, disk: string): Value {
  return {
    modules: [{ name: q(module), bundled: q(`/workerd/${module}`) }],
    compatibilityDate: q(BUNDLED_WORKER_DATE),
    // So it may call a service binding's queue() / scheduled() handler.
    compatibilityFlags: [q('service_binding_extra_handlers')],
    bindings,
    durableObjectNamespaces: [{ className: q(className), uniqueKey: q(className), enableSql: 'true' }],
    durableObjectStorage: { localDisk: q(disk) },
  };
}

function designator(service: string, entrypoint?: string, props?: Record<string, unknown>): Value {
  if (!entrypoint && !props) return q(service);
  return { name: q(service), entrypoint: entrypoint ? q(entrypoint) : undefined, props: props ? { json: q(JSON.stringify(props)) } : undefined };
}

/** A capnp text value: a rendered token (see q()), a list, or a struct (undefined fields left out). */
type Value = string | Value[] | { [field: string]: Value | undefined };

/** A capnp text string literal; non-ASCII goes as `\xNN` UTF-8 bytes, so the file stays ASCII. */
export function q(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

function render(value: Value, indent = ''): string {
  if (typeof value === 'string') return value;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    if (value.every((v) => typeof v === 'string')) return `[${value.join(', ')}]`;
    return `[\n${value.map((v) => inner + render(v, inner)).join(',\n')}\n${indent}]`;
  }
  const fields = Object.entries(value).filter((e): e is [string, Value] => e[1] !== undefined);
  if (!fields.length) return '()';
  const flat = fields.map(([k, v]) => `${k} = ${render(v, inner)}`);
  const oneLine = `(${flat.join(', ')})`;
  if (oneLine.length <= 100 && !oneLine.includes('\n')) return oneLine;
  return `(\n${flat.map((f) => inner + f).join(',\n')}\n${indent})`;
}
