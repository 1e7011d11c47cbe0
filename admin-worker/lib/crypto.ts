/**
 * The admin side of DB-stored model credentials: sealing what `/model/new`
 * and `/model/update` receive, and the view of `litellm_params` that may
 * leave the Worker. The format (AES-256-GCM under a key derived by HKDF from
 * LITELLM_SALT_KEY, else the master key) lives in worker/models/db-models.ts,
 * which the gateway opens the rows with.
 */
import { envRefName } from '../../worker/config/env-ref.ts';
import { GatewayError } from '../../worker/errors.ts';
import { isCredentialField, isSealed, isSensitiveHeader, seal, sealingKey, sealingSecret } from '../../worker/models/db-models.ts';

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

/** Whether a value must be sealed: a credential given in clear (an `os.environ/NAME` reference is stored as given). */
const needsSealing = (value: unknown): value is string => typeof value === 'string' && !isSealed(value) && envRefName(value) === undefined;

/**
 * `litellm_params` as received, with every credential sealed: top-level
 * fields named like credentials, and extra_headers that carry auth. Other
 * values are left alone (validation comes after and sees the same types).
 */
export async function sealCredentials(key: CryptoKey, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (isCredentialField(name, value) && needsSealing(value)) out[name] = await seal(key, name, value);
    else if (name === 'extra_headers' && value && typeof value === 'object' && !Array.isArray(value)) {
      const headers: Record<string, unknown> = {};
      for (const [h, v] of Object.entries(value)) headers[h] = isSensitiveHeader(h) && needsSealing(v) ? await seal(key, `extra_headers.${h}`, v) : v;
      out[name] = headers;
    } else out[name] = value;
  }
  return out;
}

