/**
 * config.yaml's `environment_variables`, as LiteLLM sets them into its
 * process at start: here they sit under the Worker's own environment (a
 * secret or var of the same name wins). Values are strings, as an
 * environment's are. They are compiled into the Worker bundle, so credentials
 * belong in secrets; the config is the place for plain settings.
 */
export function configEnvVars(raw: unknown): Record<string, string> {
  const vars = raw && typeof raw === 'object' ? (raw as { environment_variables?: unknown }).environment_variables : undefined;
  if (!vars || typeof vars !== 'object' || Array.isArray(vars)) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
  }
  return out;
}
