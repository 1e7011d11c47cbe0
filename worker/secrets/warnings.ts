/**
 * What config.yaml's secret manager settings will not do, said at compile time and at Worker start: the
 * manager's own environment missing (its calls would fail), and LiteLLM's writing of virtual keys.
 */
import { awsEnvProblems } from './aws-secrets-manager.ts';
import { type KeyManagementSettings, SUPPORTED_SYSTEMS } from './settings.ts';
import { vaultEnvProblems } from './vault.ts';

/** Warnings about `general_settings.key_management_*`, with `lookup` the environment `os.environ/` reads. */
export function keyManagementWarnings(raw: unknown, lookup: Record<string, unknown>): string[] {
  const general = (raw as { general_settings?: { key_management_system?: unknown; key_management_settings?: unknown } } | undefined)?.general_settings;
  if (!general || typeof general !== 'object') return [];
  const system = general.key_management_system;
  const settings = (general.key_management_settings && typeof general.key_management_settings === 'object' ? general.key_management_settings : undefined) as KeyManagementSettings | undefined;
  const out: string[] = [];
  if (system === undefined) {
    if (settings) out.push('general_settings.key_management_settings: ignored without general_settings.key_management_system');
    return out;
  }
  if (typeof system !== 'string' || !(SUPPORTED_SYSTEMS as readonly string[]).includes(system)) return out; // the schema refuses it
  if (settings?.store_virtual_keys === true) {
    out.push('general_settings.key_management_settings.store_virtual_keys: not supported: Tollgate only reads secrets from the secret manager; virtual keys stay in Postgres (as SHA-256 hashes)');
  }
  if (settings?.access_mode === 'write_only') {
    out.push('general_settings.key_management_settings.access_mode: write_only reads no secrets, and Tollgate writes none: the secret manager is not used');
    return out;
  }
  const problems = system === 'hashicorp_vault' ? vaultEnvProblems(lookup) : awsEnvProblems(lookup, settings);
  for (const problem of problems) out.push(`general_settings.key_management_system: ${system}: ${problem}; calls whose credentials it holds fail until it is fixed`);
  return out;
}
