/**
 * HashiCorp Vault's KV v2 engine, read as LiteLLM reads it: `GET {HCP_VAULT_ADDR}/v1/{HCP_VAULT_NAMESPACE}/
 * {HCP_VAULT_MOUNT_NAME}/data/{HCP_VAULT_PATH_PREFIX}/{NAME}` with `X-Vault-Token: {HCP_VAULT_TOKEN}`,
 * the value under the secret's `key` field (`{"data":{"data":{"key":"sk-..."}}}`).
 */
import { SecretReadError, type SecretReader } from './reader.ts';

/** LiteLLM's default address (a Vault agent beside the proxy). */
const DEFAULT_ADDR = 'http://127.0.0.1:8200';

const envStr = (env: Record<string, unknown>, name: string) => (typeof env[name] === 'string' && env[name] !== '' ? env[name] : undefined);

/** What is missing from the environment for Vault to be read (HCP_VAULT_TOKEN); empty when nothing is. */
export function vaultEnvProblems(env: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!envStr(env, 'HCP_VAULT_TOKEN')) problems.push('HCP_VAULT_TOKEN is not set (Tollgate authenticates to Vault with a token)');
  const addr = envStr(env, 'HCP_VAULT_ADDR');
  if (addr && !isUrl(addr)) problems.push('HCP_VAULT_ADDR is not an http(s) URL');
  return problems;
}

const isUrl = (s: string) => {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
};

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');

/** The KV v2 URL of a secret name, as LiteLLM builds it. */
export function vaultSecretUrl(env: Record<string, unknown>, name: string): string {
  const addr = (envStr(env, 'HCP_VAULT_ADDR') ?? DEFAULT_ADDR).replace(/\/+$/, '');
  const parts = [envStr(env, 'HCP_VAULT_NAMESPACE'), envStr(env, 'HCP_VAULT_MOUNT_NAME') ?? 'secret', 'data', envStr(env, 'HCP_VAULT_PATH_PREFIX'), name]
    .filter((p): p is string => p !== undefined).map(trimSlashes).filter(Boolean);
  return `${addr}/v1/${parts.map((p) => p.split('/').map(encodeURIComponent).join('/')).join('/')}`;
}

/** A reader of one Vault; throws SecretReadError naming the secret and the HTTP status, never a value or the token. */
export function vaultReader(env: Record<string, unknown>): SecretReader {
  return async (name, timeoutMs) => {
    const token = envStr(env, 'HCP_VAULT_TOKEN');
    if (!token) throw new SecretReadError('HCP_VAULT_TOKEN is not set', 'config');
    let res: Response;
    try {
      res = await fetch(vaultSecretUrl(env, name), { headers: { 'X-Vault-Token': token, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new SecretReadError(err instanceof Error && err.name === 'TimeoutError' ? 'Vault did not answer in time' : 'Vault could not be reached', 'unavailable');
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new SecretReadError('Vault has no such secret (HTTP 404)', 'missing');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new SecretReadError(`Vault refused the read (HTTP ${res.status})`, 'unavailable');
    }
    const body = (await res.json().catch(() => undefined)) as { data?: { data?: Record<string, unknown> } } | undefined;
    const value = body?.data?.data?.key;
    if (typeof value !== 'string' || value === '') throw new SecretReadError('the Vault secret has no "key" field', 'missing');
    return value;
  };
}
