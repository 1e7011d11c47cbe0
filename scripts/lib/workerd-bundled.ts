import type { Unstable_Config } from 'wrangler';
import { q, type Value } from './capnp.ts';

/** The services added beside the Workers (the disks are `--directory-path` names). */
export const WORKERD_SERVICES = {
  queues: 'queues', cron: 'cron', internet: 'internet', doStorage: 'do-storage', queueStorage: 'queue-storage',
} as const;

/** The date workerd's own wrangler converter gives queues.js and cron.js. */
export const BUNDLED_WORKER_DATE = '2026-01-01';

/** A Worker to run: its name, its wrangler config and its bundle. */
export type WorkerSource = { name: string; config: Unstable_Config; script: string };

/** Each queue's consumer in the shape queues.js reads (`CONSUMERS`), with wrangler's settings renamed. */
export function queueConsumers(workers: WorkerSource[]): Map<string, Record<string, unknown>> {
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
export function queuesWorker(consumers: Map<string, Record<string, unknown>>, clustered: boolean): Value {
  const targets = new Set([...consumers.values()].map((c) => String(c.consumer)));
  return bundledWorker('queues.js', [
    { name: q('SHARD'), durableObjectNamespace: { className: q('QueueShard') } },
    { name: q('CONSUMERS'), json: q(JSON.stringify(Object.fromEntries(consumers))) },
    // In a cluster each isolate sends to a shard of its own (a random token), so sends spread with the instances.
    ...(clustered ? [{ name: q('CLUSTERED'), json: q('true') }] : []),
    ...[...targets].map((t) => ({ name: q(t), service: q(t) })),
  ], 'QueueShard', WORKERD_SERVICES.queueStorage);
}

/** workerd's bundled cron Worker (`/workerd/cron.js`): one schedule per Worker with `triggers.crons`. */
export function cronWorker(workers: WorkerSource[]): Value {
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
