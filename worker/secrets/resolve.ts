/**
 * Deployments whose credentials come from the secret manager (general_settings.key_management_system):
 * config loading keeps such a field an `os.environ/NAME` reference (settings.ts keepForSecretManager);
 * here, when a call is about to use the deployment, each is replaced by the secret's value, from this
 * isolate's cache (secret-cache.ts). The deployment the router, telemetry and spend rows see keeps the
 * reference: only the copy handed to the provider adapter holds the value.
 */
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { ENV_PREFIX } from '../config/env-ref.ts';
import { withConfigEnv } from '../config/config-env.ts';
import compiled from 'tollgate-config';
import { awsSecretsReader, primaryValue } from './aws-secrets-manager.ts';
import { SecretReadError } from './reader.ts';
import { DEFAULT_REFRESH_MS, SecretCache } from './secret-cache.ts';
import { DECLARED_SECRETS, type KeyManagementSettings, readsSecrets, SECRET_FIELDS, secretNameAllowed } from './settings.ts';
import { vaultReader } from './vault.ts';

type Params = DeploymentRef['params'];

/** Reads one name: a cached value at once, else a promise of it (throws SecretReadError). */
type Get = (name: string, background?: (p: Promise<unknown>) => void) => Promise<string> | string;

interface Manager { system: string; get: Get }

/** The bundled config's settings (validated at Worker start: an invalid config serves no call). */
const GENERAL = (compiled.config as { general_settings?: { key_management_system?: string; key_management_settings?: KeyManagementSettings } } | undefined)?.general_settings;
/** Whether any call may need the secret manager: read once, so a config without one pays one constant check. */
export const READS_SECRETS = readsSecrets(compiled.config);
/** `hosted_keys`: checked at each read too, not only when config.yaml is loaded. */
const HOSTED = Array.isArray(GENERAL?.key_management_settings?.hosted_keys) ? new Set(GENERAL.key_management_settings.hosted_keys) : undefined;

let current: Manager | undefined;

/**
 * This isolate's secret manager client and cache, made on first use. One per isolate, not per env object:
 * the environment's values do not change while an isolate lives, and a new cache would read every secret again.
 */
function managerFor(env: Record<string, unknown>): Manager {
  if (current) return current;
  const system = GENERAL!.key_management_system!;
  const settings = GENERAL!.key_management_settings;
  const merged = withConfigEnv(env);
  if (system === 'hashicorp_vault') {
    // LiteLLM's knob for its Vault cache, in seconds.
    const seconds = Number(merged.HCP_VAULT_REFRESH_INTERVAL);
    const cache = new SecretCache(vaultReader(merged), Number.isFinite(seconds) && seconds > 0 ? { refreshMs: seconds * 1000 } : {});
    return (current = { system, get: (name, background) => cache.get(name, background) });
  }
  const cache = new SecretCache(awsSecretsReader(merged, settings), { refreshMs: DEFAULT_REFRESH_MS });
  const primaryName = settings?.primary_secret_name;
  if (!primaryName) return (current = { system, get: (name, background) => cache.get(name, background) });
  // The primary secret (one JSON object of every name) is the only thing cached: a name is taken from its
  // latest value, so a rotation is seen after one refresh interval, as for any other secret.
  const get: Get = (name, background) => {
    const whole = cache.get(primaryName, background);
    return typeof whole === 'string' ? primaryValue(whole, primaryName, name) : whole.then((w) => primaryValue(w, primaryName, name));
  };
  return (current = { system, get });
}

interface Refs {
  /** field → name, read from the manager. */
  read: [field: string, name: string][];
  /** A reference config.yaml did not declare for the manager (an admin-added model's): never read. */
  refused?: [field: string, name: string];
}

/** The reference names in a deployment's credential fields, found once per params object. */
const refsOf = new WeakMap<Params, Refs>();

function secretRefs(params: Params): Refs {
  let refs = refsOf.get(params);
  if (!refs) {
    refs = { read: [] };
    const declared = (params as { [DECLARED_SECRETS]?: Record<string, string> })[DECLARED_SECRETS];
    for (const field of SECRET_FIELDS) {
      const value = (params as Record<string, unknown>)[field];
      if (typeof value !== 'string' || !value.startsWith(ENV_PREFIX)) continue;
      const name = value.slice(ENV_PREFIX.length);
      if (declared?.[field] === name && secretNameAllowed(name) && (!HOSTED || HOSTED.has(name))) refs.read.push([field, name]);
      else refs.refused ??= [field, name];
    }
    refsOf.set(params, refs);
  }
  return refs;
}

/** Whether the deployment has credentials a secret manager would be asked for (callers defer work until authorized). */
export function hasSecretRefs(d: DeploymentRef): boolean {
  if (!READS_SECRETS) return false;
  const refs = secretRefs(d.params);
  return refs.read.length > 0 || refs.refused !== undefined;
}

/** The last resolved copy of each deployment and the values in it: the same object while they do not change. */
const resolvedOf = new WeakMap<DeploymentRef, { values: string[]; resolved: DeploymentRef }>();

/**
 * The deployment as its provider adapter should see it: credential fields that are secret manager
 * references replaced by their values. The deployment itself when it has none, or when no secret manager
 * is configured (one constant read). The same copy while the values are unchanged, so adapters' caches
 * per deployment (targets, parsed service accounts) hold. Throws a 500 (the secret is not there, the
 * manager's settings are incomplete, or config.yaml did not declare the reference) or a 503 (the manager
 * refused or could not be reached) naming the reference and the deployment, never a value.
 */
export function deploymentWithSecrets(d: DeploymentRef, env: Record<string, unknown>, background?: (p: Promise<unknown>) => void): DeploymentRef | Promise<DeploymentRef> {
  if (!READS_SECRETS) return d;
  const { read: refs, refused } = secretRefs(d.params);
  const manager = refs.length || refused ? managerFor(env) : undefined;
  if (refused) throw undeclaredError(d, refused, manager!.system);
  if (!refs.length) return d;
  const values = refs.map(([, name]) => {
    try {
      return manager!.get(name, background);
    } catch (err) {
      return Promise.reject(err);
    }
  });
  const build = (resolved: string[]) => {
    const known = resolvedOf.get(d);
    if (known && known.values.every((v, i) => v === resolved[i])) return known.resolved;
    const params = { ...d.params } as Record<string, unknown>;
    refs.forEach(([field], i) => { params[field] = resolved[i]; });
    const copy = { ...d, params: params as Params };
    resolvedOf.set(d, { values: resolved, resolved: copy });
    return copy;
  };
  if (values.every((v) => typeof v === 'string')) return build(values as string[]);
  return Promise.all(values.map((v, i) => Promise.resolve(v).catch((err: unknown) => {
    throw secretError(err, d, refs[i]!, manager!.system);
  }))).then(build);
}

function undeclaredError(d: DeploymentRef, [field, name]: [string, string], system: string): GatewayError {
  return new GatewayError(`Deployment ${d.group} (${d.provider}/${d.model}): litellm_params.${field} (os.environ/${name}) is not set in the environment, and only config.yaml's model_list and credential_list read credentials from ${system}`, {
    status: 500, type: 'internal_server_error', provider: d.provider,
  });
}

function secretError(err: unknown, d: DeploymentRef, [field, name]: [string, string], system: string): GatewayError {
  const failed = err instanceof SecretReadError ? err : new SecretReadError('the secret manager could not be read', 'unavailable');
  const message = `Deployment ${d.group} (${d.provider}/${d.model}) could not read litellm_params.${field} (os.environ/${name}) from ${system}: ${failed.message}`;
  return failed.kind === 'unavailable'
    ? new GatewayError(message, { status: 503, type: 'service_unavailable_error', provider: d.provider, retryable: true })
    : new GatewayError(message, { status: 500, type: 'internal_server_error', provider: d.provider });
}
