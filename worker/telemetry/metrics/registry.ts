/**
 * The Prometheus metrics Tollgate exposes on `GET /metrics`: LiteLLM's names,
 * types and labels (`litellm/integrations/prometheus.py`), so dashboards and
 * alert rules written for LiteLLM work unchanged. Shared by the isolates
 * (which buffer deltas), the aggregating Durable Object and the renderer; no
 * runtime imports, so the admin Worker and unit tests can load it too.
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'state';

export interface MetricDef {
  /** LiteLLM's metric name; counters are exposed with `_total`, histograms as `_bucket`/`_sum`/`_count`. */
  name: string;
  /** `state` is a gauge the aggregator derives from recent successes and failures (litellm_deployment_state). */
  kind: MetricKind;
  help: string;
  /** Label names, sorted: the order of the values in a series, and of the labels in the output (as LiteLLM prints them). */
  labels: readonly string[];
}

/** LiteLLM's LATENCY_BUCKETS (seconds), `+Inf` last. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0,
  7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0, Infinity,
];

/** The value LiteLLM prints for a label it has no value for (Python's None). */
export const NONE = 'None';

/**
 * Labels LiteLLM declares but Tollgate always sets to "None": `end_user`
 * (LiteLLM leaves it "None" unless end-user tracking for Prometheus is
 * enabled: the `user` field is client input) and `user_email` (not known on
 * the hot path). Kept so LiteLLM's own assertions on whole series match.
 */
export const CONSTANT_NONE_LABELS: ReadonlySet<string> = new Set(['end_user', 'user_email']);

const CALLER = ['hashed_api_key', 'api_key_alias', 'team', 'team_alias'] as const;
const DEPLOYMENT = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'] as const;

function def(name: string, kind: MetricKind, help: string, labels: readonly string[]): MetricDef {
  return { name, kind, help, labels: [...new Set(labels)].sort() };
}

export const M = {
  proxyTotal: def('litellm_proxy_total_requests_metric', 'counter', 'Total number of requests made to the proxy server - track number of client side requests',
    ['end_user', ...CALLER, 'requested_model', 'user', 'status_code', 'user_email', 'route']),
  proxyFailed: def('litellm_proxy_failed_requests_metric', 'counter', 'Total number of failed responses from proxy - the client did not get a success response from litellm proxy',
    ['end_user', ...CALLER, 'requested_model', 'user', 'exception_status', 'exception_class', 'user_email', 'route']),
  spend: def('litellm_spend_metric', 'counter', 'Total spend on LLM requests',
    ['end_user', ...CALLER, 'model', 'user']),
  totalTokens: def('litellm_total_tokens_metric', 'counter', 'Total number of input + output tokens from LLM requests',
    ['end_user', ...CALLER, 'model', 'user', 'requested_model']),
  inputTokens: def('litellm_input_tokens_metric', 'counter', 'Total number of input tokens from LLM requests',
    ['end_user', ...CALLER, 'model', 'user', 'requested_model']),
  outputTokens: def('litellm_output_tokens_metric', 'counter', 'Total number of output tokens from LLM requests',
    ['end_user', ...CALLER, 'model', 'user', 'requested_model']),
  requestLatency: def('litellm_request_total_latency_metric', 'histogram', 'Total latency (seconds) for a request to LiteLLM',
    ['end_user', ...CALLER, 'requested_model', 'user', 'model']),
  llmLatency: def('litellm_llm_api_latency_metric', 'histogram', 'Total latency (seconds) for a models LLM API call',
    ['end_user', ...CALLER, 'requested_model', 'user', 'model']),
  ttft: def('litellm_llm_api_time_to_first_token_metric', 'histogram', 'Time to first token for a models LLM API call',
    [...CALLER, 'model']),
  overhead: def('litellm_overhead_latency_metric', 'histogram', 'Latency overhead (seconds) added by LiteLLM processing',
    ['model_group', 'api_provider', 'api_base', 'litellm_model_name', 'hashed_api_key', 'api_key_alias']),
  deploymentSuccess: def('litellm_deployment_success_responses', 'counter', 'LLM Deployment Analytics - Total number of successful LLM API calls via litellm',
    [...DEPLOYMENT, 'requested_model', ...CALLER]),
  deploymentFailure: def('litellm_deployment_failure_responses', 'counter', 'LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api',
    [...DEPLOYMENT, 'requested_model', ...CALLER, 'exception_status', 'exception_class']),
  deploymentTotal: def('litellm_deployment_total_requests', 'counter', 'LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure',
    [...DEPLOYMENT, 'requested_model', ...CALLER]),
  deploymentState: def('litellm_deployment_state', 'state', 'LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage',
    DEPLOYMENT),
  cooledDown: def('litellm_deployment_cooled_down', 'counter', 'LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic. exception_status is the status of the exception that caused the deployment to be cooled down',
    [...DEPLOYMENT, 'exception_status']),
  successfulFallbacks: def('litellm_deployment_successful_fallbacks', 'counter', 'LLM Deployment Analytics - Number of successful fallback requests from primary model -> fallback model',
    ['requested_model', 'fallback_model', ...CALLER, 'exception_status', 'exception_class']),
  failedFallbacks: def('litellm_deployment_failed_fallbacks', 'counter', 'LLM Deployment Analytics - Number of failed fallback requests from primary model -> fallback model',
    ['requested_model', 'fallback_model', ...CALLER, 'exception_status', 'exception_class']),
  cacheHits: def('litellm_cache_hits_metric', 'counter', 'Total number of LiteLLM cache hits',
    ['end_user', ...CALLER, 'model', 'user']),
  cacheMisses: def('litellm_cache_misses_metric', 'counter', 'Total number of LiteLLM cache misses',
    ['end_user', ...CALLER, 'model', 'user']),
  cachedTokens: def('litellm_cached_tokens_metric', 'counter', 'Total tokens served from LiteLLM cache',
    ['end_user', ...CALLER, 'model', 'user']),
  remainingTeamBudget: def('litellm_remaining_team_budget_metric', 'gauge', 'Remaining budget for team', ['team', 'team_alias']),
  teamMaxBudget: def('litellm_team_max_budget_metric', 'gauge', 'Maximum budget set for team', ['team', 'team_alias']),
  remainingKeyBudget: def('litellm_remaining_api_key_budget_metric', 'gauge', 'Remaining budget for api key', ['hashed_api_key', 'api_key_alias']),
  keyMaxBudget: def('litellm_api_key_max_budget_metric', 'gauge', 'Maximum budget set for api key', ['hashed_api_key', 'api_key_alias']),
  remainingProviderBudget: def('litellm_provider_remaining_budget_metric', 'gauge', 'Remaining budget for provider - used for provider budget routing', ['api_provider']),
  callbackFailures: def('litellm_callback_logging_failures_metric', 'counter', 'Total number of failures when emitting logs to callbacks', ['callback_name']),
  limiterCalls: def('tollgate_limiter_calls', 'counter', 'Calls from the gateway to limiter Durable Objects (admit, settle, release, lease return): the admission cost the benchmark reports per request', []),
  cacheErrors: def('tollgate_cache_errors', 'counter', 'Response cache reads and writes that failed or timed out; the request went on uncached', ['reason']),
  // LiteLLM's service health metrics (service_callback: ["prometheus_system"]; metrics/services.ts): the response cache's Redis, the admin Worker's Postgres.
  redisLatency: def('litellm_redis_latency', 'histogram', 'Latency for redis service', ['redis']),
  redisFailed: def('litellm_redis_failed_requests', 'counter', 'Total failed_requests for redis service', ['redis', 'error_class', 'function_name']),
  redisTotal: def('litellm_redis_total_requests', 'counter', 'Total total_requests for redis service', ['redis']),
  postgresLatency: def('litellm_postgres_latency', 'histogram', 'Latency for postgres service', ['postgres']),
  postgresFailed: def('litellm_postgres_failed_requests', 'counter', 'Total failed_requests for postgres service', ['postgres', 'error_class', 'function_name']),
  postgresTotal: def('litellm_postgres_total_requests', 'counter', 'Total total_requests for postgres service', ['postgres']),
  droppedSeries: def('tollgate_metrics_series_dropped', 'counter', 'Updates dropped because their metric already had the most label sets allowed (MAX_SERIES_PER_METRIC)', ['metric']),
} as const satisfies Record<string, MetricDef>;

export const METRIC_LIST: readonly MetricDef[] = Object.values(M);
export const METRICS_BY_NAME: ReadonlyMap<string, MetricDef> = new Map(METRIC_LIST.map((d) => [d.name, d]));

/**
 * Aggregating Durable Objects. A series lives in exactly one, chosen by a
 * hash of its name and labels (budget gauges and alert state by a hash of
 * their entity), so no object sees every isolate's whole batch and
 * `/metrics` merges them by concatenation.
 */
export const METRIC_SHARDS = 4;
/** The most label sets a metric may have (across all shards); further ones are dropped and counted. */
export const MAX_SERIES_PER_METRIC = 10_000;
export const MAX_SERIES_PER_SHARD = Math.ceil(MAX_SERIES_PER_METRIC / METRIC_SHARDS);
/** An isolate ships its deltas at most this often (the first after a quiet spell 20 ms after its request). */
export const METRICS_FLUSH_EVERY_MS = 1_000;
export const METRICS_FIRST_FLUSH_MS = 20;
/** The most distinct series an isolate buffers between two flushes; the excess is dropped and counted. */
export const MAX_PENDING_SERIES = 20_000;
/** A shard writes changed series to its storage at most this often: what a crash of the object can lose. */
export const METRICS_PERSIST_EVERY_MS = 500;
/** The longest label value kept; longer ones are cut (admin-set aliases and ids only reach labels). */
export const MAX_LABEL_CHARS = 128;

export function shardName(index: number): string {
  return `metrics-shard-${index}`;
}

/** FNV-1a: a fast, stable hash for choosing a shard. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % METRIC_SHARDS;
}

const SEP = '\u0001';

/** A series' identity: its metric and its label values, in the metric's label order. */
export function seriesKey(metric: string, values: readonly string[]): string {
  return metric + SEP + values.join(SEP);
}

/** One buffered change, as an isolate ships it; `l` are the label values in the metric's label order. */
export type Delta =
  | { k: 'c'; m: string; l: string[]; v: number }
  | { k: 'g'; m: string; l: string[]; v: number; at: number }
  /** Histogram: per-bucket (not cumulative) counts, aligned with LATENCY_BUCKETS; sum and count. */
  | { k: 'h'; m: string; l: string[]; b: number[]; s: number; n: number }
  /** Deployment health: successes and failures seen at `at`; `cu`: in cooldown until (ms). */
  | { k: 's'; m: string; l: string[]; ok: number; fail: number; at: number; cu?: number };

/** One series as a shard holds and reports it. */
export interface Series {
  m: string;
  l: string[];
  /** Counter, gauge or health-state value. */
  v: number;
  b?: number[];
  s?: number;
  n?: number;
  /** Gauges: when the value was measured (last writer wins). */
  at?: number;
  /** Deployment state: in cooldown until (ms). */
  cu?: number;
}

/** A series' label values in the metric's label order; missing ones and the constant labels are "None". */
export function labelValuesOf(def: MetricDef, values: Record<string, string>): string[] {
  return def.labels.map((name) => (CONSTANT_NONE_LABELS.has(name) ? NONE : values[name] ?? NONE));
}

export function bucketIndex(seconds: number): number {
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= (LATENCY_BUCKETS[i] as number)) return i;
  return LATENCY_BUCKETS.length - 1;
}
