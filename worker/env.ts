/** Bindings of the gateway Worker (wrangler.toml) plus the variables config.yaml refers to. */
export interface GatewayEnv {
  /** Postgres connection string (a secret). */
  DATABASE_URL?: string;
  /** `host:port/path` of a WebSocket-to-TCP proxy, for a plain Postgres (local, in-region). Unset on Neon. */
  DATABASE_WSPROXY?: string;
  LITELLM_MASTER_KEY?: string;
  /** The admin Worker, which serves /key/*, /team/*, ... on the same base URL. */
  ADMIN?: Fetcher;
  TOLLGATE_VERSION?: string;
  /** One limiter Durable Object per key, team, organization, user and end user (limits/entity-limiter.ts). */
  LIMITER?: DurableObjectNamespace;
  /** One health object per model group: cooldowns and latency shared by every isolate (router/health-object.ts). */
  ROUTER_HEALTH?: DurableObjectNamespace;
  /** One object per background response or batch until it is billed (jobs/later-work.ts). */
  LATER_WORK?: DurableObjectNamespace;
  /** One object per A2A task or context id an agent handed out: whose it is (a2a/task-owner-object.ts). */
  A2A_TASKS?: DurableObjectNamespace;
  /** Set by the local runtime (npm start, tests: Miniflare), whose requests carry a made-up `cf` object (auth/client-ip.ts). */
  TOLLGATE_LOCAL_RUNTIME?: string;
  /** Set only by the test suite: exposes the route that moves the limiters' clock. */
  TOLLGATE_TEST_MODE?: string;
  /** Set only by the test suite: how soon a background response or batch is first asked about (ms; 30 s otherwise). */
  TOLLGATE_LATER_WORK_POLL_MS?: string;
  /** Spend-log records, consumed by the admin Worker (see telemetry/spend-log.ts). */
  SPEND_LOG_QUEUE?: Queue<unknown>;
  /** The shards that aggregate Prometheus metrics and send Slack alerts (telemetry/metrics/aggregator.ts). */
  METRICS?: DurableObjectNamespace;
  /** Slack incoming webhook for `general_settings.alerting: ["slack"]` (a secret). */
  SLACK_WEBHOOK_URL?: string;
  /** `alerting: ["webhook"]`: where budget events are posted as JSON. */
  WEBHOOK_URL?: string;
  /** `alerting: ["pagerduty"]`: the Events API v2 routing key (a secret; only ever in the events' bodies). */
  PAGERDUTY_API_KEY?: string;
  /** Where PagerDuty events go instead of https://events.pagerduty.com (a proxy; tests' fake). */
  PAGERDUTY_API_BASE?: string;
  /** The email callbacks' API keys (secrets; `resend_email`, `sendgrid_email`), for budget alert emails (telemetry/email/). */
  RESEND_API_KEY?: string;
  SENDGRID_API_KEY?: string;
  /** LiteLLM's share of a key's max budget its max budget email goes at (default 0.8). */
  EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE?: string;
  /** LiteLLM's dedupe of budget emails: at most one of each per entity this many seconds (default 86400). */
  EMAIL_BUDGET_ALERT_TTL?: string;
  /** Most label sets per Prometheus metric whose custom labels hold values of their own (default 1,000); beyond, counted under "other". */
  TOLLGATE_METRICS_MAX_CUSTOM_SERIES?: string;
  /** Most label sets per Prometheus metric (default 10,000); beyond, updates are dropped and counted. */
  TOLLGATE_METRICS_MAX_SERIES?: string;
  /** Callback events (Langfuse), consumed by the admin Worker (see telemetry/langfuse/). */
  CALLBACK_QUEUE?: Queue<unknown>;
  /** Anything config.yaml names with `os.environ/NAME`. */
  [name: string]: unknown;
}
