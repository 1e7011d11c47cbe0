import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectEnvRefs, resolveEnvRefs } from '../../worker/config/env-ref.ts';
import { buildAll } from './build.ts';
import { migrateDatabase, needsWsProxy } from './migrate.ts';
import { type PostgresServer, startEmbeddedPostgres } from './postgres.ts';
import { startRuntime } from './runtime.ts';
import { startWsProxy, type WsProxy } from './wsproxy.ts';

/** Variables the Workers read by name whether or not config.yaml mentions them. */
export const WELL_KNOWN_ENV = [
  'LITELLM_MASTER_KEY', 'LITELLM_SALT_KEY', 'STORE_MODEL_IN_DB', 'JWT_PUBLIC_KEY_URL', 'JWT_AUDIENCE', 'JWT_ISSUER', 'LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY', 'LANGFUSE_HOST',
  'LANGFUSE_TIMEOUT', 'PROXY_BASE_URL',
  // The `otel` callback's collector (the admin Worker's consumer posts the spans).
  'OTEL_EXPORTER', 'OTEL_ENDPOINT', 'OTEL_HEADERS', 'OTEL_SERVICE_NAME', 'OTEL_ENVIRONMENT_NAME', 'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_TIMEOUT',
  // The langfuse_otel, arize_phoenix and arize callbacks' collectors (admin-worker/queues/callbacks/otel-vendors.ts).
  'LANGFUSE_OTEL_HOST', 'LANGFUSE_TRACING_ENVIRONMENT', 'PHOENIX_COLLECTOR_HTTP_ENDPOINT', 'PHOENIX_COLLECTOR_ENDPOINT', 'PHOENIX_API_KEY',
  'PHOENIX_PROJECT_NAME', 'ARIZE_SPACE_ID', 'ARIZE_SPACE_KEY', 'ARIZE_API_KEY', 'ARIZE_ENDPOINT', 'ARIZE_HTTP_ENDPOINT', 'ARIZE_PROJECT_NAME',
  // The logfire, traceloop, langtrace, levo and weave_otel callbacks' collectors (admin-worker/queues/callbacks/otlp-vendors.ts).
  'WANDB_API_KEY', 'WANDB_PROJECT_ID', 'WANDB_HOST', 'LOGFIRE_TOKEN', 'LOGFIRE_BASE_URL', 'TRACELOOP_API_KEY', 'TRACELOOP_BASE_URL', 'TRACELOOP_HEADERS', 'LANGTRACE_API_KEY', 'LANGTRACE_API_HOST',
  'LEVOAI_API_KEY', 'LEVOAI_ORG_ID', 'LEVOAI_WORKSPACE_ID', 'LEVOAI_COLLECTOR_URL',
  // The standard loggers' destinations (admin-worker/queues/callbacks/loggers/): generic_api and datadog (LiteLLM's names).
  'GENERIC_LOGGER_ENDPOINT', 'GENERIC_LOGGER_HEADERS', 'DD_API_KEY', 'DD_SITE', 'DD_SOURCE', 'DD_ENV', 'DD_SERVICE', 'DD_VERSION',
  'DD_BASE_URL', 'LITELLM_DD_AGENT_HOST', 'LITELLM_DD_AGENT_PORT', 'HOSTNAME', 'POD_NAME',
  // The datadog_llm_observability logger: the names above, its ml_app and its Agent port (LiteLLM's names).
  'DD_LLMOBS_ML_APP', 'LITELLM_DD_LLM_OBS_PORT',
  // The s3 logger: its params' os.environ/ names come from config.yaml; AWS_* below are its fallback credentials.
  'S3_LOG_PROMPTS_ONLY',
  'LANGSMITH_API_KEY', 'LANGSMITH_PROJECT', 'LANGSMITH_BASE_URL', 'LANGSMITH_TENANT_ID', 'LANGSMITH_DEFAULT_RUN_NAME', 'LANGSMITH_SAMPLING_RATE',
  // The gcs_bucket logger (a key file's path in GCS_PATH_SERVICE_ACCOUNT is read into its JSON: workerBindings).
  'GCS_BUCKET_NAME', 'GCS_PATH_SERVICE_ACCOUNT', 'GCS_API_BASE',
  // The gcs_pubsub logger (LiteLLM's names, and GCS_PUBSUB_API_BASE, ours; GCS_PATH_SERVICE_ACCOUNT above is its key too).
  'GCS_PUBSUB_PROJECT_ID', 'GCS_PUBSUB_TOPIC_ID', 'GCS_PUBSUB_API_BASE',
  // The braintrust logger; the aws_sqs logger's os.environ/ names come from config.yaml (AWS_* below as its fallback).
  'BRAINTRUST_API_KEY', 'BRAINTRUST_API_BASE',
  // The opik logger and the sentry failure callback (LiteLLM's names).
  'OPIK_API_KEY', 'OPIK_WORKSPACE', 'OPIK_PROJECT_NAME', 'OPIK_URL_OVERRIDE', 'SENTRY_DSN', 'SENTRY_API_SAMPLE_RATE', 'SENTRY_API_TRACE_RATE', 'SENTRY_ENVIRONMENT', 'SENTRY_SEND_DEFAULT_PII',
  // The posthog logger (LiteLLM's names).
  'POSTHOG_API_KEY', 'POSTHOG_API_URL',
  // The openmeter logger (LiteLLM's names).
  'OPENMETER_API_KEY', 'OPENMETER_API_ENDPOINT', 'OPENMETER_EVENT_TYPE', 'OPENMETER_TRUST_REQUEST_USER',
  // The lago logger (LiteLLM's names).
  'LAGO_API_BASE', 'LAGO_API_KEY', 'LAGO_API_EVENT_CODE', 'LAGO_API_CHARGE_BY',
  // The lunary logger (the names Lunary's SDK reads for LiteLLM).
  'LUNARY_PUBLIC_KEY', 'LUNARY_PRIVATE_KEY', 'LUNARY_API_URL',
  // The helicone logger (LiteLLM's names).
  'HELICONE_API_KEY', 'HELICONE_API_BASE',
  // The azure_storage logger (LiteLLM's names; AZURE_STORAGE_ENDPOINT is ours, AZURE_AUTHORITY_HOST the Azure SDK's).
  'AZURE_STORAGE_ACCOUNT_NAME', 'AZURE_STORAGE_FILE_SYSTEM', 'AZURE_STORAGE_ACCOUNT_KEY', 'AZURE_STORAGE_TENANT_ID', 'AZURE_STORAGE_CLIENT_ID',
  'AZURE_STORAGE_CLIENT_SECRET', 'AZURE_STORAGE_ENDPOINT', 'AZURE_AUTHORITY_HOST',
  // The azure_sentinel logger (LiteLLM's names; the AZURE_* app registration is its fallback, the Azure SDK's names).
  'AZURE_SENTINEL_ENDPOINT', 'AZURE_SENTINEL_DCR_IMMUTABLE_ID', 'AZURE_SENTINEL_STREAM_NAME', 'AZURE_SENTINEL_TENANT_ID', 'AZURE_SENTINEL_CLIENT_ID',
  'AZURE_SENTINEL_CLIENT_SECRET', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET',
  // The clickhouse logger (LiteLLM's names; CLICKHOUSE_HOST/PORT/USERNAME/PASSWORD its older logger's).
  'CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE', 'AGENT_TRACING_RETENTION_DAYS', 'AGENT_TRACING_SPEND_LOG_RETENTION_DAYS', 'CLICKHOUSE_HOST', 'CLICKHOUSE_PORT', 'CLICKHOUSE_USERNAME', 'CLICKHOUSE_PASSWORD',
  'UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'SLACK_WEBHOOK_URL', 'WEBHOOK_URL',
  // The resend_email and sendgrid_email callbacks (admin-worker/email/, and the gateway's budget emails, worker/telemetry/email/):
  // LiteLLM's names, and RESEND_API_BASE / SENDGRID_API_BASE / EMAIL_INVITATION_BASE_URL (ours).
  'RESEND_API_KEY', 'RESEND_FROM_EMAIL', 'RESEND_API_BASE', 'SENDGRID_API_KEY', 'SENDGRID_SENDER_EMAIL', 'SENDGRID_API_BASE', 'EMAIL_SENDER',
  'PROXY_BASE_URL', 'EMAIL_INVITATION_BASE_URL', 'EMAIL_LOGO_URL', 'EMAIL_SUPPORT_CONTACT', 'EMAIL_SIGNATURE', 'EMAIL_INCLUDE_API_KEY', 'EMAIL_SUBJECT_INVITATION',
  'EMAIL_SUBJECT_KEY_CREATED', 'EMAIL_SUBJECT_KEY_ROTATED', 'EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE', 'EMAIL_BUDGET_ALERT_TTL',
  // alerting: ["pagerduty"]: the Events API v2 routing key, and a base to send its events elsewhere (tests' fake).
  'PAGERDUTY_API_KEY', 'PAGERDUTY_API_BASE',
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION_NAME', 'AWS_REGION', 'AWS_BEARER_TOKEN_BEDROCK',
  'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'VERTEXAI_PROJECT', 'VERTEXAI_LOCATION', 'VERTEXAI_CREDENTIALS',
  'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_API_KEY', 'AZURE_API_BASE', 'AZURE_API_VERSION',
  // The pass-through routes' credentials and bases (LiteLLM's names).
  'OPENAI_API_BASE', 'ANTHROPIC_API_BASE', 'GEMINI_API_BASE', 'VLLM_API_BASE', 'VLLM_API_KEY', 'HOSTED_VLLM_API_BASE', 'HOSTED_VLLM_API_KEY',
  'COHERE_API_KEY', 'COHERE_API_BASE', 'MISTRAL_API_KEY', 'MISTRAL_API_BASE',
  // The other providers' keys and bases a deployment without api_key/api_base falls back to (LiteLLM's names).
  'GROQ_API_KEY', 'TOGETHERAI_API_KEY', 'DEEPSEEK_API_KEY', 'FIREWORKS_AI_API_KEY', 'XAI_API_KEY', 'PERPLEXITYAI_API_KEY',
  'OPENROUTER_API_KEY', 'DEEPINFRA_API_KEY', 'CEREBRAS_API_KEY', 'AZURE_AI_API_KEY', 'AZURE_AI_API_BASE',
  // search_tools' providers (worker/search/), the guardrails' services (worker/guardrails/services.ts).
  'TAVILY_API_KEY', 'PERPLEXITY_API_KEY', 'EXA_API_KEY', 'BRAVE_API_KEY', 'PARALLEL_AI_API_KEY', 'PARALLEL_API_KEY', 'GOOGLE_PSE_API_KEY',
  'GOOGLE_PSE_ENGINE_ID', 'FIRECRAWL_API_KEY', 'SEARXNG_API_KEY', 'SERPER_API_KEY', 'LINKUP_API_KEY', 'SEARCHAPI_API_KEY', 'DATAFORSEO_LOGIN',
  'DATAFORSEO_PASSWORD', 'PARALLEL_AI_API_BASE', 'GOOGLE_PSE_API_BASE', 'FIRECRAWL_API_BASE', 'SEARXNG_API_BASE', 'SERPER_API_BASE',
  'LINKUP_API_BASE', 'SEARCHAPI_API_BASE', 'DATAFORSEO_API_BASE',
  'LAKERA_API_KEY', 'LAKERA_API_BASE', 'PRESIDIO_ANALYZER_API_BASE', 'PRESIDIO_ANONYMIZER_API_BASE', 'GENERIC_GUARDRAIL_API_BASE',
  // The public model hub's title and description (worker/routes/model-hub.ts).
  'DOCS_TITLE', 'DOCS_DESCRIPTION',
  // general_settings.key_management_system's own settings (worker/secrets/): Vault (LiteLLM's names) and AWS Secrets Manager.
  'HCP_VAULT_ADDR', 'HCP_VAULT_TOKEN', 'HCP_VAULT_NAMESPACE', 'HCP_VAULT_MOUNT_NAME', 'HCP_VAULT_PATH_PREFIX', 'HCP_VAULT_REFRESH_INTERVAL',
  'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
];

export interface StackOptions {
  configFile: string;
  /** `.tollgate/` by default: the embedded database, Durable Object and Queue state, the build. */
  dataDir: string;
  host?: string;
  port?: number;
  /** An external Postgres; without it the embedded PGlite serves. */
  databaseUrl?: string;
  /** Already-running Postgres to use (tests), instead of starting one. */
  postgres?: PostgresServer;
  /** The environment `os.environ/NAME` resolves from. */
  env: Record<string, string | undefined>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'none';
  /** Bindings the Workers get that the config compiler does not see (as Cloudflare secrets set after a build). */
  runtimeOnlyEnv?: Record<string, string>;
}

export interface Stack {
  url: string;
  masterKey: string | undefined;
  databaseUrl: string;
  databaseKind: 'postgres' | 'pglite' | 'external';
  warnings: string[];
  /** Stops both Workers and starts them again on the same port and state (what a crash and restart keeps). */
  restartRuntime(): Promise<void>;
  /** Runs a Worker's scheduled handler (its cron tick) as if scheduled at `scheduledTime` (epoch ms), for tests. */
  scheduled(worker: 'gateway' | 'admin', scheduledTime: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole gateway on one machine: Postgres (embedded unless given), the
 * WebSocket proxy the Neon driver reaches it through, migrations, both Worker
 * bundles and the local runtime. `stop()` ends everything it started.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    mkdirSync(options.dataDir, { recursive: true });
    let pg = options.postgres;
    let databaseUrl = options.databaseUrl ?? pg?.url;
    if (!databaseUrl) {
      pg = await startEmbeddedPostgres(join(options.dataDir, 'pgdata'));
      cleanups.push(pg.stop);
      databaseUrl = pg.url;
    }
    let proxy: WsProxy | undefined;
    if (needsWsProxy(databaseUrl)) {
      const u = new URL(databaseUrl);
      proxy = await startWsProxy({ allow: [`${u.hostname}:${u.port || '5432'}`] });
      cleanups.push(proxy.close);
    }
    await migrateDatabase(databaseUrl, proxy?.url);

    const build = await buildAll(options.configFile, join(options.dataDir, 'build'), options.env);
    const bindings = { ...workerBindings(build.compiled.config, options.env), ...options.runtimeOnlyEnv };
    bindings.DATABASE_URL = databaseUrl;
    if (proxy) bindings.DATABASE_WSPROXY = proxy.url;
    const runtimeOptions = {
      build,
      host: options.host,
      port: options.port,
      persistDir: join(options.dataDir, 'state'),
      bindings,
      logLevel: options.logLevel,
    };
    let runtime = await startRuntime(runtimeOptions);
    cleanups.push(() => runtime.stop());
    return {
      url: runtime.url,
      restartRuntime: async () => {
        // Same port and the same Durable Object / Queue state on disk: what a process restart keeps.
        await runtime.stop();
        runtime = await startRuntime({ ...runtimeOptions, port: Number(new URL(runtime.url).port) });
      },
      scheduled: async (worker, scheduledTime) => {
        const target = await runtime.miniflare.getWorker(worker === 'admin' ? 'tollgate-admin' : 'tollgate');
        const result = await target.scheduled({ scheduledTime: new Date(scheduledTime), cron: '* * * * *' });
        if (result.outcome !== 'ok') throw new Error(`${worker} scheduled handler: ${result.outcome}`);
      },
      masterKey: effectiveMasterKey(build.compiled.config, bindings),
      databaseUrl,
      databaseKind: options.databaseUrl ? 'external' : (pg?.kind ?? 'external'),
      warnings: build.compiled.warnings,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The variables config.yaml names, plus the well-known ones, taken from `env`. */
export function workerBindings(config: unknown, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...collectEnvRefs(config), ...WELL_KNOWN_ENV]) {
    const value = env[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  const keyFile = out.GCS_PATH_SERVICE_ACCOUNT;
  // LiteLLM's GCS_PATH_SERVICE_ACCOUNT is a key file's path; a Worker reads no files, so it gets the file's JSON.
  if (keyFile && !keyFile.trimStart().startsWith('{') && existsSync(keyFile)) out.GCS_PATH_SERVICE_ACCOUNT = readFileSync(keyFile, 'utf8');
  return out;
}

/** The master key the Workers will use: config.yaml's (resolved) else LITELLM_MASTER_KEY. */
export function effectiveMasterKey(config: unknown, env: Record<string, string | undefined>): string | undefined {
  const general = (config as { general_settings?: { master_key?: unknown } } | undefined)?.general_settings;
  const resolved = resolveEnvRefs(general?.master_key, env).value;
  if (typeof resolved === 'string' && resolved) return resolved;
  return env.LITELLM_MASTER_KEY || undefined;
}

/** A master key kept in the data dir, so the printed key stays the same from run to run. */
export function savedMasterKey(dataDir: string): string {
  const file = join(dataDir, 'master_key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const key = `sk-${Buffer.from(bytes).toString('base64url')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
