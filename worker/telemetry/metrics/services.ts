/**
 * LiteLLM's service health metrics (`litellm_settings.service_callback: ["prometheus_system"]`, its
 * PrometheusServicesLogger): per service a latency histogram (`litellm_<service>_latency`, successful calls), a count
 * of calls (`litellm_<service>_total_requests`, failed ones too) and a count of failures by error class and call
 * (`litellm_<service>_failed_requests`). Tollgate measures the response cache's Redis (worker/cache/store.ts) and
 * the admin Worker's Postgres: its management API requests and the spend-log consumer's writes (db/measured.ts).
 * Recording only updates the isolate's metrics buffer (metrics/buffer.ts): no I/O, never throws; the buffer ships
 * with the request's own metrics (a cache write after the answer, with the isolate's next ones).
 */
import type { TollgateConfig } from '../../config/schema.ts';
import { inc, observe } from './buffer.ts';
import { M, type MetricDef } from './registry.ts';

/** The services measured, each with its metrics; the label named after the service holds its name, as LiteLLM's do. */
const SERVICES: Record<'redis' | 'postgres', { latency: MetricDef; total: MetricDef; failed: MetricDef }> = {
  redis: { latency: M.redisLatency, total: M.redisTotal, failed: M.redisFailed },
  postgres: { latency: M.postgresLatency, total: M.postgresTotal, failed: M.postgresFailed },
};

export type ServiceName = keyof typeof SERVICES;

/** Whether config.yaml turns the service metrics on; read once per config (the cache store keeps the answer). */
export function serviceMetricsEnabled(config: TollgateConfig): boolean {
  return config.litellm_settings.service_callback?.includes('prometheus_system') === true;
}

/** An error's class name as a label (LiteLLM's `error_class`): a bounded set of identifiers, never its message. */
function errorClass(err: unknown): string {
  if (err instanceof Error && err.message === 'timeout') return 'TimeoutError';
  const name = err instanceof Error ? (err.constructor?.name || err.name) : typeof err;
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'Error';
}

/**
 * One call to `service` (`fn`: LiteLLM's call type, e.g. `async_get_cache`) that started at `startedAt` (Date.now())
 * and ended now, failed when `err` is given.
 */
export function recordServiceCall(service: ServiceName, fn: string, startedAt: number, err?: unknown): void {
  try {
    const metrics = SERVICES[service];
    const labels = { [service]: service };
    inc(metrics.total, labels);
    if (err === undefined) observe(metrics.latency, labels, Math.max(0, Date.now() - startedAt) / 1000);
    else inc(metrics.failed, { ...labels, error_class: errorClass(err), function_name: fn });
  } catch {
    // A metric must never fail the cache call it measures.
  }
}
