import type { TollgateConfig } from '../config/schema.ts';
import type { CallType } from '../proxy/call-context.ts';
import { serviceMetricsEnabled } from '../telemetry/metrics/services.ts';

/** LiteLLM's call-type names in `supported_call_types`, mapped to ours (sync names too). */
const CALL_TYPE_NAMES: Record<string, CallType> = {
  acompletion: 'acompletion', completion: 'acompletion',
  atext_completion: 'atext_completion', text_completion: 'atext_completion',
  aembedding: 'aembedding', embedding: 'aembedding',
};

export interface CacheSettings {
  type: 'local' | 'redis';
  ttlSeconds: number;
  namespace: string | undefined;
  callTypes: ReadonlySet<CallType>;
  /** `mode: default_off`: only requests that ask (`cache: {"use-cache": true}`) are cached. */
  defaultOff: boolean;
  maxEntries: number;
  /** `service_callback: ["prometheus_system"]`: the Redis store reports each call's latency or failure (LiteLLM's service metrics). */
  serviceMetrics: boolean;
  url: string | undefined;
  token: string | undefined;
}

/** LiteLLM's default cache TTL when none is configured. */
export const DEFAULT_TTL_SECONDS = 600;
const DEFAULT_LOCAL_ENTRIES = 1_000;

/**
 * The response cache as config.yaml sets it (`litellm_settings.cache` and
 * `cache_params`), or undefined when caching is off. Redis is reached over
 * Upstash's REST API (`cache_params.url`/`token`, else UPSTASH_REDIS_REST_URL
 * / UPSTASH_REDIS_REST_TOKEN); a Redis named only by host/port cannot be, and
 * then the cache stays off with a warning at load (see config/validate.ts).
 */
export function cacheSettings(config: TollgateConfig, env: Record<string, unknown>): CacheSettings | undefined {
  // One settings object per config, so the store built for it is built once per isolate.
  if (!memo.has(config)) memo.set(config, build(config, env));
  return memo.get(config);
}

const memo = new WeakMap<TollgateConfig, CacheSettings | undefined>();

function build(config: TollgateConfig, env: Record<string, unknown>): CacheSettings | undefined {
  if (config.litellm_settings.cache !== true) return undefined;
  const params = config.litellm_settings.cache_params ?? {};
  const type = params.type ?? 'local';
  const url = params.url ?? (typeof env.UPSTASH_REDIS_REST_URL === 'string' ? env.UPSTASH_REDIS_REST_URL : undefined);
  const token = params.token ?? (typeof env.UPSTASH_REDIS_REST_TOKEN === 'string' ? env.UPSTASH_REDIS_REST_TOKEN : undefined);
  if (type === 'redis' && (!url || !token)) return undefined;
  const types = params.supported_call_types?.length ? params.supported_call_types : ['acompletion', 'atext_completion', 'aembedding'];
  return {
    type,
    ttlSeconds: params.ttl ?? DEFAULT_TTL_SECONDS,
    namespace: params.namespace,
    callTypes: new Set(types.map((t) => CALL_TYPE_NAMES[t]).filter((t): t is CallType => !!t)),
    defaultOff: params.mode === 'default_off',
    maxEntries: params.max_size ?? DEFAULT_LOCAL_ENTRIES,
    serviceMetrics: serviceMetricsEnabled(config),
    url,
    token,
  };
}
