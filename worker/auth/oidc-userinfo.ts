/**
 * LiteLLM's OIDC UserInfo (`litellm_jwtauth.oidc_userinfo_enabled`): an opaque access token (not a JWT) is asked
 * about at the provider's UserInfo endpoint (`oidc_userinfo_endpoint`, OpenID Connect Core 5.3: GET with the token
 * as a Bearer credential), and the identity it returns stands for the token's claims. JWTs are still verified with
 * the provider's keys, never sent there, as in LiteLLM.
 */
import { GatewayError } from '../errors.ts';
import { readBoundedBytes } from '../openai/read-body.ts';
import { log } from '../telemetry/log.ts';
import { type Claims, looksLikeJwt } from './jwt-verify.ts';
import { CLIENT_RATE, INSTANCE_RATE, UserInfoBudget } from './userinfo-budget.ts';

/** The largest UserInfo answer read: an identity is a few hundred bytes, group lists a few kilobytes. */
const MAX_BODY_BYTES = 256_000;
/** How long the provider has to answer before the call gets a 503. */
const TIMEOUT_MS = 5_000;
/**
 * How long a refused token (or a caller the gateway then rejects) is answered from memory: any credential a stranger
 * sends would otherwise cost a call to the provider every time. Short, so a provider's transient refusal heals.
 */
export const REFUSED_MS = 60_000;
/**
 * The most refused tokens remembered per isolate (by hash and a small refusal record, about 200 bytes each, so about
 * 2 MB when full); when full, the oldest half goes.
 */
const MAX_REFUSED = 10_000;
/** The most UserInfo calls in flight per isolate: past it a new token gets a 503 rather than another outbound call. */
export const MAX_IN_FLIGHT = 32;
/** The statuses by which a provider says the token is bad (RFC 6750 3.1); any other is the provider's trouble. */
const REFUSING = new Set([400, 401, 403]);
/** What may be sent as a Bearer credential: visible ASCII only (RFC 6750's b64token is narrower still). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** The most distinct refusals (message, type, param) the remembered tokens point at; past it one is not remembered. */
const MAX_KINDS = 256;

/** A token opaque to the gateway that UserInfo may stand for: not a JWT (verified instead) and not a virtual key (`sk-`). */
export function isAccessToken(key: string): boolean {
  return !key.startsWith('sk-') && !looksLikeJwt(key);
}

const unavailable = (why: string, retryAfter?: string) => new GatewayError(`Service Unavailable, the identity provider's UserInfo endpoint ${why}, so the access token could not be checked. Please retry shortly.`, {
  status: 503, type: 'auth_provider_unavailable', retryable: true, ...(retryAfter ? { headers: { 'retry-after': retryAfter } } : {}),
});

const malformed = () => new GatewayError('Authentication Error, the access token contains characters other than visible ASCII, so it is not a token the identity provider issued', {
  status: 401, type: 'auth_error', param: 'key',
});

const overBudget = () => unavailable(`is being asked about more new access tokens than this gateway instance allows (${INSTANCE_RATE.perSecond} a second, ${CLIENT_RATE.perSecond} a second per client address)`, '1');

const refused = (status: number) => new GatewayError(`Authentication Error, the identity provider's UserInfo endpoint refused the access token (HTTP ${status}): it is expired, revoked or not one of its tokens`, {
  status: 401, type: 'auth_error', param: 'key',
});

/** The provider's `retry-after` in whole seconds (it may send a delay or an HTTP date); undefined when absent or unreadable. */
function retryAfterOf(res: Response): string | undefined {
  const value = res.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d{1,7}$/.test(value)) return String(Number(value));
  const at = Date.parse(value);
  return Number.isFinite(at) ? String(Math.max(0, Math.ceil((at - Date.now()) / 1000))) : undefined;
}

/** The hex SHA-256 of a token: what refused tokens are remembered by, so the tokens themselves are not kept. */
async function digest(token: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class OidcUserInfo {
  readonly #endpoint: string;
  readonly #pending = new Map<string, Promise<Claims>>();
  /** Token hash → its refusal's HTTP status, kind (an index into #kinds) and until when it stands (REFUSED_MS). */
  readonly #refused = new Map<string, { status: number; kind: number; until: number }>();
  /** The distinct refusals remembered tokens got, shared so each entry stays small; rebuilt as errors when thrown. */
  readonly #kinds: { message: string; type: string; param: string | null }[] = [];
  readonly #kindIndex = new Map<string, number>();
  readonly #budget = new UserInfoBudget();

  constructor(endpoint: string) {
    this.#endpoint = endpoint;
  }

  /**
   * The identity the provider returns for `token`: a 401 when it refuses the token (HTTP 400, 401, 403), a 503 when
   * it cannot be reached or answers anything else (a 429, 408 or 3xx with its `retry-after`, a 5xx, not a JSON
   * object), or when MAX_IN_FLIGHT calls are out already or the budget for new tokens (userinfo-budget.ts, per
   * instance and per `client` address) is spent; those 503s are not remembered. A credential that is not visible
   * ASCII is a 401 before any call. Calls for one token at once share one fetch; a refused token is refused from
   * memory for REFUSED_MS. What is kept of an identity, and for how long, is the caller's (JwtAuth, for
   * `oidc_userinfo_cache_ttl`).
   */
  async claims(token: string, now = Date.now(), client?: string): Promise<Claims> {
    if (!VISIBLE_ASCII.test(token)) throw malformed();
    const id = await digest(token);
    const known = this.#refused.get(id);
    if (known && known.until > now) throw this.#rebuild(known);
    let pending = this.#pending.get(id);
    if (!pending) {
      if (this.#pending.size >= MAX_IN_FLIGHT) throw unavailable(`is being asked about ${MAX_IN_FLIGHT} other access tokens from this gateway instance already`, '1');
      if (!this.#budget.take(client, now)) throw overBudget();
      pending = this.#fetch(token).catch((err: unknown) => {
        if (err instanceof GatewayError && err.status < 500) this.#remember(id, err, now);
        throw err;
      }).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  /**
   * Remembers that the caller `token` stands for was rejected with `err` (a 4xx: it names no one, its email domain is
   * not allowed), so the token is refused from memory for REFUSED_MS instead of being asked about again.
   */
  async refuse(token: string, err: unknown, now = Date.now()): Promise<void> {
    if (err instanceof GatewayError && err.status < 500) this.#remember(await digest(token), err, now);
  }

  #remember(id: string, error: GatewayError, now: number): void {
    const key = `${error.type}\n${error.param ?? ''}\n${error.message}`;
    let kind = this.#kindIndex.get(key);
    if (kind === undefined) {
      if (this.#kinds.length >= MAX_KINDS) return;
      kind = this.#kinds.push({ message: error.message, type: error.type, param: error.param }) - 1;
      this.#kindIndex.set(key, kind);
    }
    if (this.#refused.size >= MAX_REFUSED) {
      let drop = Math.ceil(this.#refused.size / 2);
      for (const old of this.#refused.keys()) {
        if (drop-- <= 0) break;
        this.#refused.delete(old);
      }
    }
    this.#refused.delete(id);
    this.#refused.set(id, { status: error.status, kind, until: now + REFUSED_MS });
  }

  /** A remembered refusal as the error it was. */
  #rebuild(entry: { status: number; kind: number }): GatewayError {
    const { message, type, param } = this.#kinds[entry.kind]!;
    return new GatewayError(message, { status: entry.status, type, param });
  }

  async #fetch(token: string): Promise<Claims> {
    // Built outside the try: only a network failure or the timeout below is the endpoint being unreachable.
    const headers = new Headers({ authorization: `Bearer ${token}`, accept: 'application/json' });
    let res: Response;
    try {
      // Never followed: a redirect would carry the token somewhere oidc_userinfo_endpoint does not name.
      res = await fetch(this.#endpoint, { headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      // The message names the endpoint, never the token.
      log.error(`OIDC UserInfo endpoint ${this.#endpoint} unreachable: ${err instanceof Error ? err.name : 'error'}`);
      throw unavailable('is unreachable');
    }
    if (REFUSING.has(res.status)) {
      await res.body?.cancel();
      throw refused(res.status);
    }
    if (res.status !== 200) {
      log.error(`OIDC UserInfo endpoint ${this.#endpoint} answered ${res.status}`);
      await res.body?.cancel();
      const redirect = res.status >= 300 && res.status < 400 ? ' (a redirect, not followed: set oidc_userinfo_endpoint to where it leads)' : '';
      throw unavailable(`answered ${res.status}${redirect}`, retryAfterOf(res));
    }
    const body = await boundedJson(res);
    if (body === TOO_LARGE) {
      log.error(`OIDC UserInfo endpoint ${this.#endpoint} answered more than ${MAX_BODY_BYTES} bytes`);
      throw unavailable(`answered more than ${MAX_BODY_BYTES / 1000} KB`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      log.error(`OIDC UserInfo endpoint ${this.#endpoint} answered something other than a JSON object`);
      throw unavailable('answered something other than a JSON object');
    }
    return body as Claims;
  }
}

const TOO_LARGE = Symbol('too large');

/**
 * The answer's JSON, read at most MAX_BODY_BYTES (a larger declared content-length is refused unread, so a
 * provider's huge answer never fills memory); TOO_LARGE past it, undefined when it is not JSON.
 */
async function boundedJson(res: Response): Promise<unknown> {
  const declared = Number(res.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    return TOO_LARGE;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedBytes(res, MAX_BODY_BYTES);
  } catch (err) {
    return err instanceof GatewayError && err.status === 413 ? TOO_LARGE : undefined;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** The 401 for a JWT where only UserInfo is set up (no JWT_PUBLIC_KEY_URL, no issuers): a caller's mistake, not the gateway's. */
export function jwtsNotAccepted(): GatewayError {
  return new GatewayError('Authentication Error, JWTs are not accepted: this gateway checks opaque access tokens with OIDC UserInfo (litellm_jwtauth.oidc_userinfo_enabled) and has no keys to verify JWTs with (JWT_PUBLIC_KEY_URL and litellm_jwtauth.issuers are unset)', {
    status: 401, type: 'auth_error', param: 'key',
  });
}
