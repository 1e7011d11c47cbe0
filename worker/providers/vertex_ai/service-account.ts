/**
 * Vertex AI access tokens from a service account's JSON key, without
 * Google's libraries: an RS256 JWT signed with WebCrypto
 * (RSASSA-PKCS1-v1_5, SHA-256, the key's PKCS#8 private key) is exchanged
 * at the key's `token_uri` (RFC 7523 jwt-bearer grant). Tokens are kept per
 * isolate and renewed a few minutes before they expire; callers that need
 * one while it is being fetched share that fetch.
 */
import { z } from 'zod';
import { GatewayError } from '../../errors.ts';
import { providerError } from '../bedrock/provider-error.ts';
import { connectionError } from '../openai-compatible/errors.ts';
import { upstreamUrl } from '../upstream-url.ts';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_LIFETIME_S = 3600;
/** A token is renewed this long before it expires, so no request starts with one about to lapse. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const TOKEN_TIMEOUT_MS = 30_000;

const serviceAccountSchema = z.looseObject({
  type: z.literal('service_account').optional(),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
  token_uri: z.string().optional(),
  project_id: z.string().optional(),
});

export type ServiceAccount = z.output<typeof serviceAccountSchema>;

const tokenResponse = z.looseObject({ access_token: z.string().min(1), expires_in: z.number().positive().optional() });

/** The key from `vertex_credentials` (the JSON itself, as text). */
export function parseServiceAccount(json: string): ServiceAccount {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw misconfigured('vertex_credentials is not JSON (give the service account key file\'s contents, e.g. os.environ/VERTEXAI_CREDENTIALS)');
  }
  const parsed = serviceAccountSchema.safeParse(value);
  if (!parsed.success) throw misconfigured('vertex_credentials is not a service account key (needs client_email and private_key)');
  return parsed.data;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const utf8 = new TextEncoder();

function pkcs8(pem: string): Uint8Array<ArrayBuffer> {
  // Keys pasted into env vars often keep their "\n" escapes.
  const body = pem.replace(/\\n/g, '\n').replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  try {
    return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  } catch {
    throw misconfigured('the service account\'s private_key is not a PEM PKCS#8 key');
  }
}

/**
 * The signed assertion: `iss` the service account, `aud` its token endpoint, valid for an hour, for `scope`
 * (Vertex AI's cloud-platform, or a narrower one such as a logger's Pub/Sub).
 */
export async function signAssertion(account: ServiceAccount, nowMs: number, scope = CLOUD_PLATFORM_SCOPE): Promise<string> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('pkcs8', pkcs8(account.private_key), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw misconfigured('the service account\'s private_key is not an RSA PKCS#8 key');
  }
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) };
  const claims = { iss: account.client_email, scope, aud: tokenUri(account), iat, exp: iat + JWT_LIFETIME_S };
  const input = `${base64url(utf8.encode(JSON.stringify(header)))}.${base64url(utf8.encode(JSON.stringify(claims)))}`;
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, utf8.encode(input)));
  return `${input}.${base64url(signature)}`;
}

export function tokenUri(account: ServiceAccount): string {
  return account.token_uri ?? DEFAULT_TOKEN_URI;
}

/** Keyed by the key itself: a key id alone would let a replaced key ride on its predecessor's token. */
const cacheKey = (account: ServiceAccount) => `${account.client_email}\n${tokenUri(account)}\n${account.private_key}`;

interface CachedToken {
  token: Promise<string>;
  /** ms since the epoch; Infinity while the exchange is in flight. */
  renewAt: number;
  /** The token, once the exchange gave it. */
  value?: string;
}

/**
 * Access tokens per service account, for one isolate, all for one scope (cloud-platform unless `scope` says
 * otherwise). `fetch` and the clock are injectable for tests.
 */
export class AccessTokens {
  private readonly cache = new Map<string, CachedToken>();
  private readonly fetcher: typeof fetch;
  private readonly now: () => number;
  private readonly scope: string;

  constructor(options: { fetch?: typeof fetch; now?: () => number; scope?: string } = {}) {
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.scope = options.scope ?? CLOUD_PLATFORM_SCOPE;
  }

  /**
   * Drops an account's kept token when it is `token` (one its destination answered 401 for: revoked), so the
   * next call exchanges anew. A newer token another request fetched meanwhile is kept: only the refused one goes.
   */
  forget(account: ServiceAccount, token: string): void {
    const key = cacheKey(account);
    if (this.cache.get(key)?.value === token) this.cache.delete(key);
  }

  token(account: ServiceAccount, label: string, provider: string): Promise<string> {
    const key = cacheKey(account);
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.renewAt) return cached.token;
    const entry: CachedToken = { token: Promise.resolve(''), renewAt: Infinity };
    entry.token = this.exchange(account, label, provider).then(
      ({ token, expiresAt }) => {
        entry.renewAt = expiresAt - REFRESH_MARGIN_MS;
        entry.value = token;
        return token;
      },
      (err: unknown) => {
        // A failed exchange is not kept: the next request tries again.
        if (this.cache.get(key) === entry) this.cache.delete(key);
        throw err;
      },
    );
    this.cache.set(key, entry);
    return entry.token;
  }

  private async exchange(account: ServiceAccount, label: string, provider: string): Promise<{ token: string; expiresAt: number }> {
    const uri = new URL(tokenUri(account));
    const url = upstreamUrl(uri.origin, uri.pathname);
    const startedAt = this.now();
    const assertion = await signAssertion(account, startedAt, this.scope);
    let res: Response;
    let text: string;
    try {
      res = await this.fetcher(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
      text = await res.text();
    } catch (err) {
      throw connectionError(label, provider, err);
    }
    if (!res.ok) {
      // OAuth's {"error":"invalid_grant","error_description":...}: the deployment's credentials were refused.
      let message = text.trim() || `HTTP ${res.status}`;
      try {
        const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        if (typeof body.error === 'string') message = [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ');
      } catch {
        // not JSON: keep the text
      }
      const status = res.status >= 500 ? 503 : 401;
      throw await providerError({ status, message: `could not get an access token: ${message}`, upstreamStatus: res.status, label, provider, secrets: [assertion] });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = tokenResponse.safeParse(json);
    if (!parsed.success) {
      throw await providerError({ status: 502, message: 'the token endpoint answered without an access_token', upstreamStatus: res.status, label, provider, secrets: [] });
    }
    return { token: parsed.data.access_token, expiresAt: startedAt + (parsed.data.expires_in ?? JWT_LIFETIME_S) * 1000 };
  }
}

function misconfigured(message: string): GatewayError {
  return new GatewayError(`Deployment misconfigured: ${message}`, { status: 500, type: 'internal_server_error', provider: 'vertex_ai' });
}
