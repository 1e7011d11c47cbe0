import { GatewayError } from '../errors.ts';
import { presentedKey } from './credentials.ts';
import { abbreviateKey, secretsEqual } from './secrets.ts';

export interface Caller {
  kind: 'master';
}

/**
 * Who is calling. The master key passes everything. Virtual keys arrive with
 * the data-path issue; until then any other key is refused as unknown.
 */
export async function authenticate(headers: Headers, masterKey: string | undefined): Promise<Caller> {
  const key = presentedKey(headers);
  if (!key) {
    throw new GatewayError('Authentication Error, No api key passed in.', { status: 401, type: 'auth_error', param: 'key' });
  }
  if (masterKey && (await secretsEqual(key, masterKey))) return { kind: 'master' };
  throw new GatewayError(
    `Authentication Error, Invalid proxy server token passed. Received API Key = ${abbreviateKey(key)}. Unable to find token in LiteLLM_VerificationTokenTable`,
    { status: 401, type: 'token_not_found_in_db', param: 'key' },
  );
}
