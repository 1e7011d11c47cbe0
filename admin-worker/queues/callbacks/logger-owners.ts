/**
 * The admin side of key/team based logging for the standard loggers (worker/telemetry/standard/dynamic-settings.ts):
 * a payload queued with `key` or `team` is posted with the settings that key's or team's metadata holds now,
 * read from Postgres here (never carried on the Queue), as the logger's own environment variables would give
 * them (LiteLLM's StandardCallbackDynamicParams replacing the env's for that call). Each owner's settings make
 * their own target, so one team's wrong credentials only hold back that team's payloads.
 */
import { resolveEnvRef } from '../../../worker/config/env-ref.ts';
import { gatewaySecretValues } from '../../../worker/config/runtime.ts';
import type { DynamicLoggerSettings } from '../../../worker/telemetry/standard/dynamic-settings.ts';
import { baseOf } from './loggers/base-url.ts';
import { POSTHOG_DEFAULT_URL } from './loggers/posthog.ts';
import { envText, type LoggerEnv } from './loggers/types.ts';

/** An owner as the dispatcher groups by it: `key:<hashed token>` or `team:<team id>`. */
export type OwnerRef = string;

/**
 * What the owner's settings make for a logger: an environment to make its target from, or why none. `drop`: the
 * owner is gone or no longer names the logger, which a retry cannot mend (its payloads are dropped, once).
 */
export type OwnerEnv = LoggerEnv | { error: string; drop?: true };

/** Google's token endpoint: the only one a key's or team's own service account is exchanged at. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/**
 * Why a key's or team's service account's `token_uri` is refused, or undefined: only Google's endpoint, or one on
 * the operator's own GCS_API_BASE (an emulator), so a tenant cannot make the admin Worker wait on a server of its
 * choosing (each payload would hold a request slot for the exchange's timeout).
 */
export function tokenUriProblem(json: string, env: LoggerEnv): string | undefined {
  let uri: unknown;
  try {
    uri = (JSON.parse(json) as { token_uri?: unknown }).token_uri;
  } catch {
    return undefined;
  }
  if (uri === undefined || uri === GOOGLE_TOKEN_URI) return undefined;
  const base = envText(env, 'GCS_API_BASE');
  if (typeof uri === 'string' && base !== undefined && origin(uri) !== undefined && origin(uri) === origin(base)) return undefined;
  return `its token_uri must be ${GOOGLE_TOKEN_URI}`;
}

/** A stored value, or the variable an `os.environ/NAME` value names (worker/config/env-ref.ts resolveEnvRef). */
const resolved = (value: string | undefined, env: LoggerEnv): string | undefined => resolveEnvRef(value, env).value;

const origin = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** A logger whose key or team settings name an API key and the base URL it is sent to, each defaulting to the environment's. */
interface KeyedLogger { keyVar: string; urlVar: string; defaultUrl: string }

/** LangSmith's keyed destination: the API key goes as the `x-api-key` header to the base URL. */
export const LANGSMITH_KEYED: KeyedLogger = { keyVar: 'langsmith_api_key', urlVar: 'langsmith_base_url', defaultUrl: 'https://api.smith.langchain.com' };

/** The environment's base URL for `logger`: its upper-case variable, else the logger's default. */
const envUrlOf = (env: LoggerEnv, logger: KeyedLogger): string => envText(env, logger.urlVar.toUpperCase()) ?? logger.defaultUrl;

/**
 * Whether the environment's API key may be sent to base URL `url`: only when it is the environment's own, the same
 * origin (scheme, host in any case, port with the default one left out) and path (base-url.ts baseOf). Anything
 * else, a host's trailing dot, a path under the environment's or credentials in the URL included, is another
 * destination. Also the rule of the check at save time.
 */
export function takesEnvKey(url: string, env: LoggerEnv, logger: KeyedLogger): boolean {
  const own = baseOf(url);
  return own !== undefined && own === baseOf(envUrlOf(env, logger));
}

/**
 * The base URL and API key an owner's settings send with, as LiteLLM reads them (each missing one from the
 * upper-case environment variable), except that the environment's key goes only to the environment's own base
 * URL: a key's or team's URL never receives the proxy's key.
 */
function ownerDestination(vars: Record<string, string>, env: LoggerEnv, logger: KeyedLogger): { url: string; apiKey: string; ownKey: boolean } | { error: string } {
  const [envKeyName, envUrlName] = [logger.keyVar.toUpperCase(), logger.urlVar.toUpperCase()];
  const url = resolved(vars[logger.urlVar], env) ?? envUrlOf(env, logger);
  const ownKey = resolved(vars[logger.keyVar], env);
  const envDestination = takesEnvKey(url, env, logger);
  const apiKey = ownKey ?? (envDestination ? envText(env, envKeyName) : undefined);
  if (apiKey) return { url, apiKey, ownKey: ownKey !== undefined };
  return { error: envDestination ? `no ${logger.keyVar} of its own and ${envKeyName} is not set` : `no ${logger.keyVar} of its own for its ${logger.urlVar} (the environment's is sent only to ${envUrlName})` };
}

/** The environment without a logger's own variables, so nothing of the config's destination leaks into an owner's. */
const without = (env: LoggerEnv, prefix: RegExp): Record<string, unknown> => Object.fromEntries(Object.entries(env).filter(([k]) => !prefix.test(k)));

/**
 * LangSmith settings as LiteLLM reads them (`langsmith_api_key`, `langsmith_project`, `langsmith_base_url`, each
 * missing one from LANGSMITH_*), the environment's API key only at the environment's base URL (ownerDestination).
 */
function langsmithEnv(vars: Record<string, string>, env: LoggerEnv): OwnerEnv {
  const dest = ownerDestination(vars, env, LANGSMITH_KEYED);
  if ('error' in dest) return dest;
  const out: Record<string, unknown> = { ...without(env, /^LANGSMITH_(API_KEY|BASE_URL|PROJECT|TENANT_ID)$/), LANGSMITH_API_KEY: dest.apiKey, LANGSMITH_BASE_URL: dest.url };
  const project = resolved(vars.langsmith_project, env) ?? envText(env, 'LANGSMITH_PROJECT');
  if (project) out.LANGSMITH_PROJECT = project;
  // The tenant goes with the environment's key only.
  const tenant = envText(env, 'LANGSMITH_TENANT_ID');
  if (!dest.ownKey && tenant) out.LANGSMITH_TENANT_ID = tenant;
  return out;
}

/**
 * GCS settings as LiteLLM reads them (`gcs_bucket_name`, `gcs_path_service_account`): the bucket (else
 * GCS_BUCKET_NAME) and the service account key's JSON; the environment's service account writes only to the
 * environment's own bucket, never to one a key or team names.
 */
function gcsEnv(vars: Record<string, string>, env: LoggerEnv): OwnerEnv {
  const envBucket = envText(env, 'GCS_BUCKET_NAME');
  const bucket = resolved(vars.gcs_bucket_name, env) ?? envBucket;
  if (!bucket) return { error: 'no gcs_bucket_name of its own and GCS_BUCKET_NAME is not set' };
  const ownAccount = resolved(vars.gcs_path_service_account, env);
  // Exactly the environment's bucket and folder: a folder of its own there could be another team's.
  const place = (name: string | undefined) => name?.trim().replace(/\/+$/, '');
  const account = ownAccount ?? (place(bucket) === place(envBucket) ? envText(env, 'GCS_PATH_SERVICE_ACCOUNT') : undefined);
  if (!account) return { error: 'no gcs_path_service_account of its own for its gcs_bucket_name (the environment\'s writes only to GCS_BUCKET_NAME)' };
  const refused = ownAccount ? tokenUriProblem(ownAccount, env) : undefined;
  if (refused) return { error: `its gcs_path_service_account: ${refused}` };
  return { ...without(env, /^GCS_(BUCKET_NAME|PATH_SERVICE_ACCOUNT)$/), GCS_BUCKET_NAME: bucket, GCS_PATH_SERVICE_ACCOUNT: account };
}

/**
 * Arize settings as LiteLLM reads them (`arize_api_key`, and the space: `arize_space_key`, else `arize_space_id`:
 * LiteLLM sets the space from arize_space_id, then overwrites it with arize_space_key)
 * in place of ARIZE_API_KEY and ARIZE_SPACE_ID / ARIZE_SPACE_KEY. Both must be the owner's own: the environment's
 * key never writes into a space a key or team names, nor theirs into the environment's. There is no endpoint
 * variable: the spans go to the environment's ARIZE_HTTP_ENDPOINT / ARIZE_ENDPOINT (otel-vendors.ts).
 */
function arizeEnv(vars: Record<string, string>, env: LoggerEnv): OwnerEnv {
  const apiKey = resolved(vars.arize_api_key, env);
  const space = resolved(vars.arize_space_key, env) ?? resolved(vars.arize_space_id, env);
  if (!apiKey || !space) return { error: 'its arize settings need both arize_api_key and arize_space_id (or arize_space_key) of their own' };
  return { ...without(env, /^ARIZE_(API_KEY|SPACE_ID|SPACE_KEY)$/), ARIZE_API_KEY: apiKey, ARIZE_SPACE_ID: space };
}

/** PostHog's keyed destination: the project key travels in the batch's body, readable by the host it is sent to. */
export const POSTHOG_KEYED: KeyedLogger = { keyVar: 'posthog_api_key', urlVar: 'posthog_api_url', defaultUrl: POSTHOG_DEFAULT_URL };

/**
 * PostHog settings as LiteLLM reads them (`posthog_api_key`, `posthog_api_url`, each missing one from
 * POSTHOG_API_KEY / POSTHOG_API_URL), the environment's project key only at the environment's URL (ownerDestination).
 */
function posthogEnv(vars: Record<string, string>, env: LoggerEnv): OwnerEnv {
  const dest = ownerDestination(vars, env, POSTHOG_KEYED);
  if ('error' in dest) return dest;
  return { ...without(env, /^POSTHOG_API_(KEY|URL)$/), POSTHOG_API_KEY: dest.apiKey, POSTHOG_API_URL: dest.url };
}

/** The loggers whose settings pair an API key with the base URL it is sent to (checked together when stored). */
export const KEYED_LOGGERS: Readonly<Record<string, KeyedLogger>> = { langsmith: LANGSMITH_KEYED, posthog: POSTHOG_KEYED };

const MAKERS: Record<string, (vars: Record<string, string>, env: LoggerEnv) => OwnerEnv> = { langsmith: langsmithEnv, gcs_bucket: gcsEnv, arize: arizeEnv, posthog: posthogEnv };

/**
 * The environment a logger's target is made from for one owner's settings, or why they make none. The gateway's
 * own secrets (master key, salt, database URL) are never sent, whatever a setting names.
 */
export function ownerEnvOf(name: string, settings: DynamicLoggerSettings | undefined, env: LoggerEnv, kind: string): OwnerEnv {
  const make = MAKERS[name];
  if (!make) return { error: `${name} takes no ${kind} settings` };
  if (!settings || Object.keys(settings.vars).length === 0) return { error: `the ${kind} no longer names ${name} settings`, drop: true };
  const withheld = gatewaySecretValues(env);
  for (const value of Object.values(settings.vars)) {
    const { value: v, missing } = resolveEnvRef(value, env);
    // Never the environment's value in its place (its key at its URL): the owner named one of its own.
    if (missing) return { error: `its ${name} settings name os.environ/${missing}, which is not set for the admin Worker` };
    if (v !== undefined && (withheld.has(v) || withheld.has(value))) return { error: `its ${name} settings name one of the gateway's own secrets; not sent` };
  }
  return make(settings.vars, env);
}

/** An owner as a log line names it: a team by its id, a key by the first characters of its hash. */
export const ownerLabel = (owner: OwnerRef): string => (owner.startsWith('key:') ? `key ${owner.slice(4, 14)}...` : `team ${owner.slice(5)}`);
