/**
 * `GET /health/services` for the standard loggers (datadog, generic_api / custom_callback_api, s3 / s3_v2,
 * langsmith, gcs_bucket): one test StandardLoggingPayload, a mock call as LiteLLM's check makes it ("Hey, how's
 * it going?" answered "This is a mock response" for the user `litellm:/health/services`), sent through the
 * logger's own poster, with the settings and secrets the callback consumer would use. What the destination
 * answers comes back scrubbed of every secret the admin Worker holds for it.
 */
import { runtimeConfig } from '../../worker/config/runtime.ts';
import { STANDARD_LOGGERS, type StandardLogger } from '../../worker/telemetry/standard/registry.ts';
import { LOGGER_POSTERS } from '../queues/callbacks/loggers.ts';
import { loggerParamSecrets } from '../queues/callbacks/loggers/secrets.ts';
import type { LoggerEnv } from '../queues/callbacks/loggers/types.ts';
import { refusalDetail } from './health-refusal.ts';

/** The standard loggers /health/services tests, by every name LiteLLM takes for them. */
export const LOGGER_SERVICES: readonly string[] = STANDARD_LOGGERS.flatMap((l) => [l.name, ...(l.aliases ?? [])]);

/** How each logger is named in an answer. */
const LABELS: Readonly<Record<string, string>> = { generic_api: 'The generic API endpoint', datadog: 'Datadog', datadog_llm_observability: 'Datadog LLM Observability', s3: 'The S3 bucket', langsmith: 'LangSmith', gcs_bucket: 'The GCS bucket', gcs_pubsub: 'The Pub/Sub topic', braintrust: 'Braintrust', aws_sqs: 'The SQS queue', opik: 'Opik', sentry: 'Sentry', posthog: 'PostHog', openmeter: 'OpenMeter', lago: 'Lago', lunary: 'Lunary', helicone: 'Helicone', azure_storage: 'The Azure Data Lake file system', azure_sentinel: 'Azure Sentinel', clickhouse: 'ClickHouse' };

export type LoggerCheck =
  | { kind: 'sent'; id: string }
  | { kind: 'not_set_up'; message: string }
  | { kind: 'refused'; message: string };

/** A test payload for a mock call (LiteLLM's health check's), now, as the gateway's standard layer shapes one. */
export function testPayload(id: string, nowMs: number): Record<string, unknown> {
  const now = nowMs / 1000;
  const user = 'litellm:/health/services';
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  return {
    id, trace_id: id, call_type: 'acompletion', stream: false, response_cost: 0, response_cost_failure_debug_info: null,
    status: 'success', status_fields: { llm_api_status: 'success' }, custom_llm_provider: 'openai', ...usage,
    startTime: now, endTime: now, completionStartTime: now, response_time: 0,
    model_map_information: { model_map_key: 'litellm-mock-response-model', model_map_value: null },
    model: 'litellm-mock-response-model', model_id: null, model_group: null, api_base: '',
    metadata: {
      user_api_key_hash: null, user_api_key_alias: null, user_api_key_org_id: null, user_api_key_team_id: null, user_api_key_user_id: null,
      user_api_key_team_alias: null, user_api_key_end_user_id: user, spend_logs_metadata: null, requester_ip_address: null, requester_metadata: {},
      prompt_management_metadata: null, mcp_tool_call_metadata: null, vector_store_request_metadata: null, applied_guardrails: [], usage_object: null,
    },
    cache_hit: null, cache_key: null, saved_cache_cost: 0, request_tags: ['health-check'], end_user: user, requester_ip_address: null,
    messages: [{ role: 'user', content: 'Hey, how\'s it going?' }],
    response: { id, object: 'chat.completion', model: 'litellm-mock-response-model', choices: [{ index: 0, message: { role: 'assistant', content: 'This is a mock response' } }], usage },
    error_str: null, error_information: null, model_parameters: { user },
    hidden_params: { model_id: null, cache_key: null, api_base: null, response_cost: '0', litellm_overhead_time_ms: null, additional_headers: null, batch_models: null, litellm_model_name: 'litellm-mock-response-model', usage_object: null },
  };
}

const named = (list: readonly string[] | undefined, logger: StandardLogger) => !!list?.some((n) => n === logger.name || logger.aliases?.includes(n));

/**
 * Sends a standard logger's test payload through its poster. Not set up (not in `callbacks` /
 * `success_callback` / `failure_callback`, or its settings make no destination): LiteLLM's 422, naming what is
 * missing; refused: why, as a class and the poster's reason scrubbed of the logger's secrets.
 */
export async function checkLogger(service: string, env: LoggerEnv): Promise<LoggerCheck> {
  const logger = STANDARD_LOGGERS.find((l) => l.name === service || l.aliases?.includes(service));
  const poster = logger && LOGGER_POSTERS[logger.name];
  if (!logger || !poster) return { kind: 'not_set_up', message: `"${service}" has no poster in this admin Worker. Unable to test this.` };
  let paramSecrets: Record<string, unknown> | undefined;
  try {
    const { config } = runtimeConfig(env);
    const l = config.litellm_settings;
    if (![l.callbacks, l.success_callback, l.failure_callback].some((list) => named(list, logger))) {
      return { kind: 'not_set_up', message: `"${service}" not in proxy config: litellm_settings.callbacks. Unable to test this.` };
    }
    paramSecrets = loggerParamSecrets(config);
  } catch {
    return { kind: 'not_set_up', message: `"${service}" cannot be tested: the config does not load in the admin Worker.` };
  }
  const label = LABELS[logger.name] ?? logger.name;
  let target: ReturnType<typeof poster.target>;
  try {
    target = poster.target(env, { unsampled: true });
  } catch (err) {
    return { kind: 'not_set_up', message: `"${service}" is not set up: its settings do not make a destination (${err instanceof Error ? err.name : typeof err}). Unable to test this.` };
  }
  if ('error' in target) return { kind: 'not_set_up', message: `"${service}" is not set up: ${target.error}. Unable to test this.` };
  const id = crypto.randomUUID();
  const bytes = new TextEncoder().encode(JSON.stringify(testPayload(id, Date.now())));
  let result: Awaited<ReturnType<typeof target.post>>;
  try {
    result = await target.post([{ bytes, events: 1 }]);
  } catch (err) {
    result = { ok: false, retry: true, reason: `the request could not be made (${err instanceof Error ? err.name : typeof err})` };
  }
  if (result.ok && !result.dropped) return { kind: 'sent', id };
  // Taken with the test payload dropped (refused in a 200 answer, as Lago's and Lunary's per-event results say): not sent.
  const refusal = result.ok ? { reason: result.dropped!, retry: false } : result;
  return { kind: 'refused', message: `${label} did not take the test payload ${refusalDetail(refusal, env, paramSecrets)}` };
}
