import type { Context } from 'hono';
import type { GatewayEnv } from '../../env.ts';
import { errorResponse, GatewayError } from '../../errors.ts';
import type { ShardSnapshot } from './aggregator.ts';
import { aggregatorStub } from './buffer.ts';
import { METRIC_SHARDS, type Series } from './registry.ts';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './render.ts';
import { log } from '../log.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

const SNAPSHOT_TIMEOUT_MS = 5_000;

/**
 * `GET /metrics`: LiteLLM's Prometheus metrics, aggregated over every
 * isolate. Public, as LiteLLM serves it. A request shows here within about
 * a second of its end (isolates ship their deltas at most once a second;
 * see metrics/buffer.ts); the documented bound is 2 s. When a shard does not
 * answer, the scrape fails (503) rather than showing counters that would
 * seem to go backwards.
 */
export async function metricsRoute(c: Ctx): Promise<Response> {
  const snapshots: Series[][] = [];
  if (c.env.METRICS) {
    try {
      const answers = await Promise.all(Array.from({ length: METRIC_SHARDS }, (_, shard) => withTimeout(aggregatorStub(c.env, shard)!.snapshot())));
      for (const a of answers) snapshots.push(a.series);
    } catch (err) {
      log.error('GET /metrics: a metrics shard did not answer:', err instanceof Error ? err.message : String(err));
      return errorResponse(new GatewayError('Metrics are temporarily unavailable; retry shortly', {
        status: 503, type: 'service_unavailable', headers: { 'retry-after': '1' },
      }));
    }
  }
  return new Response(renderMetrics(snapshots.flat()), { headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' } });
}

async function withTimeout(call: Promise<ShardSnapshot>): Promise<ShardSnapshot> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([call, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), SNAPSHOT_TIMEOUT_MS)))]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
