import { relative, resolve } from 'node:path';
import { type Unstable_Config, unstable_readConfig } from 'wrangler';
import { q, type Value } from './capnp.ts';
import { BUNDLED_WORKER_DATE, WORKERD_SERVICES, type WorkerSource } from './workerd-bundled.ts';

/** Bindings not translated (yet): refused, rather than a Worker missing one at run time. */
const UNSUPPORTED = [
  'kv_namespaces', 'r2_buckets', 'd1_databases', 'hyperdrive', 'workflows', 'analytics_engine_datasets', 'vectorize',
  'send_email', 'dispatch_namespaces', 'mtls_certificates', 'secrets_store_secrets', 'pipelines', 'ratelimits',
  'worker_loaders', 'vpc_services', 'tail_consumers', 'streaming_tail_consumers', 'containers', 'logfwdr',
  'ai', 'browser', 'images', 'media', 'version_metadata', 'assets', 'artifacts', 'unsafe', 'exports',
] as const;

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

/**
 * A Worker's `Workerd.Worker`: its bundle embedded relative to `configDir`, its wrangler bindings
 * (vars, services, queue producers, Durable Objects), then `envNames` and required secrets from the environment.
 */
export function workerValue(w: WorkerSource, workers: Set<string>, envNames: string[], configDir: string): Value {
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

function designator(service: string, entrypoint?: string, props?: Record<string, unknown>): Value {
  if (!entrypoint && !props) return q(service);
  return { name: q(service), entrypoint: entrypoint ? q(entrypoint) : undefined, props: props ? { json: q(JSON.stringify(props)) } : undefined };
}
