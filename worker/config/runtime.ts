import compiled from 'tollgate-config';
import { GatewayError } from '../errors.ts';
import { envRefName } from './env-ref.ts';
import type { TollgateConfig } from './schema.ts';
import { validateConfig } from './validate.ts';
import { bundledJsonLogs, log, setJsonLogs } from '../telemetry/log.ts';

/**
 * The variables holding the gateway's own secrets: LiteLLM's names, and those config.yaml takes its master key
 * and database URL from (`os.environ/NAME`). No stored setting may name them (admin-worker/lib/env-refs.ts).
 */
export function gatewaySecretNames(): ReadonlySet<string> {
  const names = new Set(['LITELLM_MASTER_KEY', 'LITELLM_SALT_KEY', 'DATABASE_URL']);
  for (const field of SECRET_FIELDS) {
    const name = envRefName(compiledGeneral()?.[field]);
    if (name) names.add(name);
  }
  return names;
}

/** The gateway's own secrets' values in this environment (and config.yaml's literal ones), without validating the config. */
export function gatewaySecretValues(env: Record<string, unknown>): Set<string> {
  const values = new Set<string>();
  for (const name of gatewaySecretNames()) if (typeof env[name] === 'string' && env[name]) values.add(env[name]);
  for (const field of SECRET_FIELDS) {
    const value = compiledGeneral()?.[field];
    if (typeof value === 'string' && value && envRefName(value) === undefined) values.add(value);
  }
  return values;
}

const SECRET_FIELDS = ['master_key', 'database_url'] as const;
const compiledGeneral = () => (compiled.config as { general_settings?: Record<string, unknown> } | undefined)?.general_settings;

export interface RuntimeConfig {
  config: TollgateConfig;
  warnings: string[];
  /** `general_settings.master_key`, else `LITELLM_MASTER_KEY`. */
  masterKey: string | undefined;
}

let cached: { env: object; result: RuntimeConfig | GatewayError } | undefined;

/**
 * The config, validated against this Worker's env (`os.environ/NAME` values
 * resolved) once per isolate. A config that does not validate turns every
 * request into a 500 that lists each problem by path.
 */
export function runtimeConfig(env: Record<string, unknown>): RuntimeConfig {
  if (cached?.env !== env) cached = { env, result: load(env) };
  if (cached.result instanceof GatewayError) throw cached.result;
  return cached.result;
}

function load(env: Record<string, unknown>): RuntimeConfig | GatewayError {
  const result = validateConfig(compiled.config, env);
  // litellm_settings.json_logs: this isolate's lines are JSON from here on (an invalid config's too, when it says so).
  setJsonLogs(result.ok ? result.config.litellm_settings.json_logs === true : bundledJsonLogs(compiled.config));
  if (!result.ok) {
    log.error(`config ${compiled.source} is invalid:\n  ${result.errors.join('\n  ')}`);
    return new GatewayError(`Invalid config (${compiled.source}): ${result.errors.join('; ')}`, {
      status: 500, type: 'internal_server_error',
    });
  }
  if (result.warnings.length) log.warn(`config ${compiled.source}:\n  ${result.warnings.join('\n  ')}`);
  const fromEnv = typeof env.LITELLM_MASTER_KEY === 'string' && env.LITELLM_MASTER_KEY ? env.LITELLM_MASTER_KEY : undefined;
  return { config: result.config, warnings: result.warnings, masterKey: result.config.general_settings.master_key ?? fromEnv };
}
