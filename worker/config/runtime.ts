import compiled from 'tollgate-config';
import { GatewayError } from '../errors.ts';
import type { TollgateConfig } from './schema.ts';
import { validateConfig } from './validate.ts';

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
  if (!result.ok) {
    console.error(`config ${compiled.source} is invalid:\n  ${result.errors.join('\n  ')}`);
    return new GatewayError(`Invalid config (${compiled.source}): ${result.errors.join('; ')}`, {
      status: 500, type: 'internal_server_error',
    });
  }
  if (result.warnings.length) console.warn(`config ${compiled.source}:\n  ${result.warnings.join('\n  ')}`);
  const fromEnv = typeof env.LITELLM_MASTER_KEY === 'string' && env.LITELLM_MASTER_KEY ? env.LITELLM_MASTER_KEY : undefined;
  return { config: result.config, warnings: result.warnings, masterKey: result.config.general_settings.master_key ?? fromEnv };
}
