/**
 * The admin side of DB-stored model credentials: sealing what `/model/new`
 * and `/model/update` receive, and the view of `litellm_params` that may
 * leave the Worker. The format (AES-256-GCM under a key derived by HKDF from
 * LITELLM_SALT_KEY, else the master key) lives in worker/models/db-models.ts,
 * which the gateway opens the rows with.
 */
import { GatewayError } from '../../worker/errors.ts';
import { sealingKey, sealingSecret, sealValues } from '../../worker/models/db-models.ts';
import { isCredentialField, isSensitiveHeader } from '../../worker/models/public-params.ts';

/** The key new credentials are sealed with; a 500 when there is nothing to derive it from. */
export async function writeKey(env: Record<string, unknown>, masterKey: string | undefined): Promise<CryptoKey> {
  const secret = sealingSecret(env, masterKey);
  if (!secret) {
    throw new GatewayError('Set LITELLM_SALT_KEY (or a master key) to store model credentials in the database.', {
      status: 500, type: 'internal_server_error',
    });
  }
  return sealingKey(secret);
}

/**
 * `litellm_params` as received, with every credential sealed: top-level
 * fields named like credentials, and extra_headers that carry auth. Other
 * values are left alone (validation comes after and sees the same types).
 */
export async function sealCredentials(key: CryptoKey, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = await sealValues(key, params, '', isCredentialField);
  const headers = params.extra_headers;
  if (headers && typeof headers === 'object' && !Array.isArray(headers)) out.extra_headers = await sealValues(key, headers as Record<string, unknown>, 'extra_headers', isSensitiveHeader);
  return out;
}

