import { GatewayError } from '../errors.ts';
import { log } from '../telemetry/log.ts';

/**
 * Verifying an OpenID provider's JWTs (LiteLLM's `enable_jwt_auth`): the signature against the provider's
 * published keys (JWKS, `JWT_PUBLIC_KEY_URL`), then `exp`, `nbf`, and `aud` / `iss` when the deployment names
 * them (`JWT_AUDIENCE`, `JWT_ISSUER`). Asymmetric algorithms only: a JWKS holds public keys, so an HMAC
 * (`HS256`) or `none` token is refused whatever its header says.
 */

export interface JwksSource {
  /** The JWKS URLs (`JWT_PUBLIC_KEY_URL`, comma-separated). */
  urls: string[];
  /** How long fetched keys are used before they are fetched again (`public_key_ttl`, seconds). */
  ttlMs: number;
  /** What `aud` must hold (any one of a list). */
  audience?: string | string[];
  issuer?: string;
  /** Where the audience and issuer were set, for refusals (`JWT_AUDIENCE` / `JWT_ISSUER` without it). */
  origin?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  leewaySeconds: number;
}

export type Claims = Record<string, unknown>;

interface Jwk extends JsonWebKey {
  kid?: string;
}

type ImportAlgorithm = Parameters<typeof crypto.subtle.importKey>[2];
type VerifyAlgorithm = Parameters<typeof crypto.subtle.verify>[0];

const ALGORITHMS: Record<string, { kty: string; import: ImportAlgorithm; verify: VerifyAlgorithm; crv?: string }> = {
  RS256: { kty: 'RSA', import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: 'RSASSA-PKCS1-v1_5' },
  RS384: { kty: 'RSA', import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, verify: 'RSASSA-PKCS1-v1_5' },
  RS512: { kty: 'RSA', import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }, verify: 'RSASSA-PKCS1-v1_5' },
  PS256: { kty: 'RSA', import: { name: 'RSA-PSS', hash: 'SHA-256' }, verify: { name: 'RSA-PSS', saltLength: 32 } },
  PS384: { kty: 'RSA', import: { name: 'RSA-PSS', hash: 'SHA-384' }, verify: { name: 'RSA-PSS', saltLength: 48 } },
  PS512: { kty: 'RSA', import: { name: 'RSA-PSS', hash: 'SHA-512' }, verify: { name: 'RSA-PSS', saltLength: 64 } },
  ES256: { kty: 'EC', crv: 'P-256', import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { kty: 'EC', crv: 'P-384', import: { name: 'ECDSA', namedCurve: 'P-384' }, verify: { name: 'ECDSA', hash: 'SHA-384' } },
  ES512: { kty: 'EC', crv: 'P-521', import: { name: 'ECDSA', namedCurve: 'P-521' }, verify: { name: 'ECDSA', hash: 'SHA-512' } },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
};

/** A JWT-shaped credential: three base64url parts (LiteLLM's `is_jwt` looks for the two dots). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export const invalidJwt = (why: string) =>
  new GatewayError(`Authentication Error, Invalid JWT: ${why}`, { status: 401, type: 'auth_error', param: 'key' });

const decoder = new TextDecoder();

function base64url(part: string): Uint8Array<ArrayBuffer> {
  const padded = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function jsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(base64url(part)));
  } catch {
    throw invalidJwt(`its ${what} is not base64url JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidJwt(`its ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The provider's keys, fetched at most once a TTL (and again, at most every 10 s, for a key id not seen yet). */
export class Jwks {
  readonly #source: JwksSource;
  #keys: Jwk[] | undefined;
  /** Each URL's keys as last fetched, so one provider down leaves the others' keys in use. */
  readonly #byUrl = new Map<string, Jwk[]>();
  #fetchedAt = 0;
  /** When every URL last failed with no keys to fall back on: requests in the next 5 s get the 503 at once. */
  #failedAt = -Infinity;
  #fetching: Promise<Jwk[]> | undefined;
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  constructor(source: JwksSource) {
    this.#source = source;
  }

  get source(): JwksSource {
    return this.#source;
  }

  /** The keys that may have signed a token with this `kid` (every key, when the token names none). */
  async candidates(kid: string | undefined, now: number): Promise<Jwk[]> {
    const fresh = this.#keys && now - this.#fetchedAt < this.#source.ttlMs;
    let keys = fresh ? this.#keys! : await this.#refresh(now);
    const match = (list: Jwk[]) => (kid === undefined ? list : list.filter((k) => k.kid === kid));
    // A key id not published when the keys were fetched: the provider may have rotated since.
    if (!match(keys).length && now - this.#fetchedAt >= 10_000) keys = await this.#refresh(now);
    return match(keys);
  }

  importKey(jwk: Jwk, alg: string): Promise<CryptoKey> {
    const spec = ALGORITHMS[alg]!;
    const id = `${alg}\n${jwk.kid ?? ''}\n${jwk.n ?? ''}${jwk.x ?? ''}${jwk.y ?? ''}`;
    let key = this.#imported.get(id);
    if (!key) {
      const { kty, n, e, crv, x, y } = jwk;
      key = crypto.subtle.importKey('jwk', { kty, n, e, crv, x, y }, spec.import, false, ['verify']);
      key.catch(() => this.#imported.delete(id));
      if (this.#imported.size > 256) this.#imported.clear();
      this.#imported.set(id, key);
    }
    return key;
  }

  #refresh(now: number): Promise<Jwk[]> {
    if (!this.#keys && now - this.#failedAt < 5_000) return Promise.reject(unreachable());
    this.#fetching ??= this.#fetchAll().then((keys) => {
      this.#keys = keys;
      this.#fetchedAt = now;
      return keys;
    }, (err: unknown) => {
      this.#failedAt = now;
      throw err;
    }).finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  /** Every URL's keys; a URL that fails keeps the keys it gave before (a 503 only when no URL has any). */
  async #fetchAll(): Promise<Jwk[]> {
    const results = await Promise.allSettled(this.#source.urls.map(async (url) => {
      const res = await fetch(await jwksUrlOf(url), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      const body = await res.json() as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error(`${url} is not a JWKS (no "keys" list)`);
      this.#byUrl.set(url, body.keys.filter((k): k is Jwk => !!k && typeof k === 'object' && typeof (k as Jwk).kty === 'string'));
    }));
    for (const r of results) {
      if (r.status === 'rejected') log.error(`JWKS fetch failed (keys fetched before, if any, stay in use): ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
    }
    if (!this.#byUrl.size) throw unreachable();
    return [...this.#byUrl.values()].flat();
  }
}

/**
 * The JWKS URL a configured URL stands for: an OIDC discovery document (`.../.well-known/openid-configuration`, as
 * LiteLLM takes it) names its `jwks_uri`; any other URL is the JWKS itself. Read with every key refresh, so a
 * provider that moves its keys is followed.
 */
async function jwksUrlOf(url: string): Promise<string> {
  if (!url.includes('.well-known/openid-configuration')) return url;
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const body = await res.json().catch(() => undefined) as { jwks_uri?: unknown } | undefined;
  if (typeof body?.jwks_uri !== 'string' || !/^https?:\/\//.test(body.jwks_uri)) throw new Error(`${url} is not an OIDC discovery document (no http(s) "jwks_uri")`);
  return body.jwks_uri;
}

const unreachable = () => new GatewayError('Service Unavailable, the identity provider\'s JWKS endpoint is unreachable, so the JWT signature could not be verified. Please retry shortly.', {
  status: 503, type: 'auth_provider_unavailable', retryable: true,
});

/** The token's claims once its signature and times (and audience, issuer) check out; a 401 otherwise. */
export async function verifyJwt(token: string, jwks: Jwks, now: number): Promise<Claims> {
  const [headPart, bodyPart, signaturePart] = token.split('.') as [string, string, string];
  const header = jsonPart(headPart, 'header');
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const spec = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  if (!spec) throw invalidJwt(`algorithm ${JSON.stringify(alg.slice(0, 20))} is not accepted (asymmetric algorithms only: ${Object.keys(ALGORITHMS).join(', ')})`);
  if (header.crit !== undefined) throw invalidJwt('critical header extensions are not supported');
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const keys = (await jwks.candidates(kid, now)).filter((k) => k.kty === spec.kty && (!spec.crv || k.crv === spec.crv) && (k.alg === undefined || k.alg === alg) && (k.use === undefined || k.use === 'sig'));
  if (!keys.length) throw invalidJwt(kid === undefined ? 'no published key fits its algorithm' : 'its key id is not among the provider\'s published keys');
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = base64url(signaturePart);
  } catch {
    throw invalidJwt('its signature is not base64url');
  }
  const signed = new TextEncoder().encode(`${headPart}.${bodyPart}`);
  let valid = false;
  for (const jwk of keys) {
    try {
      if (await crypto.subtle.verify(spec.verify, await jwks.importKey(jwk, alg), signature, signed)) {
        valid = true;
        break;
      }
    } catch {
      // A key that cannot be imported for this algorithm verifies nothing.
    }
  }
  if (!valid) throw invalidJwt('signature verification failed');
  const claims = jsonPart(bodyPart, 'payload');
  checkTimes(claims, now, jwks.source.leewaySeconds);
  const { audience, issuer, origin } = jwks.source;
  if (audience !== undefined) {
    const aud = claims.aud;
    const held = (one: string) => aud === one || (Array.isArray(aud) && aud.includes(one));
    if (!(typeof audience === 'string' ? held(audience) : audience.some(held))) throw invalidJwt(`its audience is not this gateway's (${origin ?? 'JWT_AUDIENCE'})`);
  }
  if (issuer !== undefined && claims.iss !== issuer) throw invalidJwt(`its issuer is not the one trusted (${origin ?? 'JWT_ISSUER'})`);
  return claims;
}

function checkTimes(claims: Claims, now: number, leeway: number): void {
  const seconds = now / 1000;
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'number') throw invalidJwt(`its "${name}" claim is not a number`);
  }
  // A token good forever cannot be revoked: identity providers' access tokens always expire.
  if (typeof claims.exp !== 'number') throw invalidJwt('it has no "exp" (expiry) claim');
  if (seconds >= claims.exp + leeway) throw invalidJwt('the token has expired');
  if (typeof claims.nbf === 'number' && seconds < claims.nbf - leeway) throw invalidJwt('the token is not valid yet');
}
