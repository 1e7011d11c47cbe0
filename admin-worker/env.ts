import type { DatabaseEnv } from '../worker/db/client.ts';
import type { LimiterEnv } from '../worker/limits/client.ts';

/** Bindings of the admin Worker (admin-worker/wrangler.toml) plus the variables config.yaml refers to. */
export interface AdminEnv extends DatabaseEnv, LimiterEnv {
  LITELLM_MASTER_KEY?: string;
  /** Encrypts model credentials stored through /model/new. */
  LITELLM_SALT_KEY?: string;
  /** The gateway's metrics shards (script_name tollgate): callback failures are counted and alerted there. */
  METRICS?: DurableObjectNamespace;
  SLACK_WEBHOOK_URL?: string;
  /** `/health/services?service=pagerduty` sends its test event with it (as the gateway has it). */
  PAGERDUTY_API_KEY?: string;
  PAGERDUTY_API_BASE?: string;
  [name: string]: unknown;
}
