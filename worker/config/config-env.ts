import compiled from 'tollgate-config';
import { configEnvVars } from './env-vars.ts';
import { bundledJsonLogs, setJsonLogs } from '../telemetry/log.ts';

// litellm_settings.json_logs, from this isolate's first line on (telemetry/log.ts).
setJsonLogs(bundledJsonLogs(compiled.config));

const merged = new WeakMap<object, object>();

/**
 * The env a handler or Durable Object works with: the bundled config's
 * `environment_variables` under the Worker's own bindings. The same object for
 * the same env (callers cache by its identity); the env itself when the
 * config sets none.
 */
export function withConfigEnv<E extends object>(env: E): E {
  const known = merged.get(env);
  if (known) return known as E;
  const vars = configEnvVars(compiled.config);
  const result = Object.keys(vars).length ? { ...vars, ...env } : env;
  merged.set(env, result);
  return result as E;
}
