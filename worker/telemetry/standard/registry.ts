import type { TollgateConfig } from '../../config/schema.ts';

/**
 * The loggers that send LiteLLM's StandardLoggingPayload (payload.ts) and
 * nothing else of their own making on the gateway's side. Adding one is a line
 * here (its callback name, and any older name LiteLLM still takes) and a poster
 * in admin-worker/queues/callbacks/loggers/ that turns a batch of payloads into
 * the destination's request: the sink, the Queue and the consumer's
 * ack/retry discipline are shared.
 */
export interface StandardLogger {
  /** The callback's name in `litellm_settings.callbacks` and on the Queue. */
  name: string;
  /** Other names LiteLLM takes for the same logger. */
  aliases?: readonly string[];
  /** Sends successful calls only (LiteLLM's logger does nothing on a failure), whatever `failure_callback` says. */
  successOnly?: boolean;
  /** Sends failed calls only (LiteLLM's sentry captures exceptions; a success is a breadcrumb in its own process). */
  failureOnly?: boolean;
  /** Sends no prompt or answer (a billing logger's events carry the model, cost and tokens): its payloads hold none. */
  countsOnly?: boolean;
  /** Its rows carry the client's W3C trace (LiteLLM's ClickHouse `trace_id` / `span_id`): the payload holds the request's `traceparent`. */
  traceContext?: boolean;
}

export const STANDARD_LOGGERS: readonly StandardLogger[] = [
  // LiteLLM's GenericAPILogger; `custom_callback_api` is its older name, still accepted by LiteLLM's proxy.
  { name: 'generic_api', aliases: ['custom_callback_api'] },
  // LiteLLM's DataDogLogger (Datadog Logs intake).
  { name: 'datadog' },
  // LiteLLM's DataDogLLMObsLogger: successes and failures as Datadog LLM Observability spans.
  { name: 'datadog_llm_observability' },
  // LiteLLM's LangsmithLogger (runs to LangSmith's /runs/batch).
  { name: 'langsmith' },
  // LiteLLM's S3Logger (s3_v2.py): one object per payload; `s3_v2` is the name its newer releases also take.
  { name: 's3', aliases: ['s3_v2'] },
  // LiteLLM's GCSBucketLogger (Enterprise there): one object per payload in a Google Cloud Storage bucket.
  { name: 'gcs_bucket' },
  // LiteLLM's GcsPubSubLogger (Enterprise there): successful calls as messages of a Google Cloud Pub/Sub topic.
  { name: 'gcs_pubsub', successOnly: true },
  // LiteLLM's BraintrustLogger: successful calls as events of a Braintrust project's logs.
  { name: 'braintrust', successOnly: true },
  // LiteLLM's SQSLogger: each payload as one message of an AWS SQS queue (aws_sqs_callback_params).
  { name: 'aws_sqs' },
  // LiteLLM's OpikLogger: successful calls as Opik traces and spans (its failure hook logs nothing).
  { name: 'opik', successOnly: true },
  // LiteLLM's sentry failure callback: each failed call as a Sentry error event (SENTRY_DSN).
  { name: 'sentry', failureOnly: true },
  // LiteLLM's PostHogLogger: successes and failures as PostHog LLM-analytics events ($ai_generation) to /batch/.
  { name: 'posthog' },
  // LiteLLM's OpenMeterLogger: successful calls' cost and tokens as CloudEvents for usage-based billing.
  { name: 'openmeter', successOnly: true, countsOnly: true },
  // LiteLLM's LagoLogger: successful calls' cost and tokens as Lago usage events, charged to the end user, user or team.
  { name: 'lago', successOnly: true, countsOnly: true },
  // LiteLLM's LunaryLogger: each call as a Lunary run, its start then its end or error event, to /v1/runs/ingest.
  { name: 'lunary' },
  // LiteLLM's HeliconeLogger: each successful call as one request to Helicone's async log API (/oai/v1/log).
  { name: 'helicone', successOnly: true },
  // LiteLLM's AzureBlobStorageLogger: each payload as one JSON file in an Azure Data Lake Storage Gen2 file system.
  { name: 'azure_storage' },
  // LiteLLM's AzureSentinelLogger: successes and failures as JSON arrays to the Azure Monitor Logs Ingestion API.
  { name: 'azure_sentinel' },
  // LiteLLM's ClickHouseSpendLogger: each call, success or failure, as one row of a ClickHouse `spend_logs` table.
  { name: 'clickhouse', traceContext: true },
];

/** Every callback name a standard logger answers to (for the config's checks). */
export const STANDARD_LOGGER_NAMES: readonly string[] = STANDARD_LOGGERS.flatMap((l) => [l.name, ...(l.aliases ?? [])]);

const named = (list: readonly string[] | undefined, logger: StandardLogger): boolean =>
  !!list && (list.includes(logger.name) || !!logger.aliases?.some((a) => list.includes(a)));

interface Enabled { config: TollgateConfig; success: StandardLogger[]; failure: StandardLogger[]; wantsText: boolean; quiet: Set<string> }
let cached: Enabled | undefined;

function enabledIn(config: TollgateConfig): Enabled {
  if (cached?.config === config) return cached;
  const s = config.litellm_settings;
  const success = STANDARD_LOGGERS.filter((l) => !l.failureOnly && (named(s.callbacks, l) || named(s.success_callback, l)));
  const failure = STANDARD_LOGGERS.filter((l) => !l.successOnly && (named(s.callbacks, l) || named(s.failure_callback, l)));
  // `callback_settings.<name>.message_logging: false` under the logger's name or any of its older names.
  const quiet = new Set(STANDARD_LOGGERS.filter((l) => [l.name, ...(l.aliases ?? [])].some((n) => config.callback_settings?.[n]?.message_logging === false)).map((l) => l.name));
  // Only a success has an answer to send: a failure-only logger (sentry) never makes a call keep its text, nor does a counts-only one.
  const wantsText = success.some((l) => !quiet.has(l.name) && !l.countsOnly);
  cached = { config, success, failure, wantsText, quiet };
  return cached;
}

/**
 * The standard loggers config.yaml turns on for a success (or a failure): `callbacks`, `success_callback`,
 * `failure_callback`, as LiteLLM reads them. Worked out once per config, so a call with none of them on costs a
 * property read.
 */
export function standardLoggersOn(config: TollgateConfig, failed: boolean): readonly StandardLogger[] {
  const enabled = enabledIn(config);
  return failed ? enabled.failure : enabled.success;
}

/**
 * Whether a logger may carry the call's prompt and answer: not when `callback_settings` sets `message_logging:
 * false` under its name or an alias (`custom_callback_api` for `generic_api`). Worked out once per config.
 */
export function standardLoggerMessageLogging(config: TollgateConfig, logger: StandardLogger): boolean {
  return !enabledIn(config).quiet.has(logger.name);
}

/** Whether any standard logger may send a call's answer, so the provider adapters keep its text (once per config). */
export function standardLoggersWantText(config: TollgateConfig): boolean {
  return enabledIn(config).wantsText;
}

/** Characters of the prompt, the answer and the client's metadata a payload keeps (each), then fewer while it would not fit a message. */
const CONTENT_CHARS = [16 * 1024, 2 * 1024, 0];

/**
 * The content sizes a logger's payload is tried at: none for a failure-only logger (sentry's event carries no
 * message content, so its payload holds none, though the error's message stays) or one that sends counts only, or with
 * message logging off.
 */
export function contentCharsFor(logger: StandardLogger, messageLoggingOff: boolean): readonly number[] {
  return messageLoggingOff || logger.failureOnly || logger.countsOnly ? [0] : CONTENT_CHARS;
}
