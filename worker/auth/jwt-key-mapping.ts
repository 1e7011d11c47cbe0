/**
 * LiteLLM's JWT → virtual key mapping (`litellm_jwtauth.virtual_key_claim_field`, or its older name
 * `jwt_client_id_field`): a verified token whose claim value
 * (and issuer) has an active row in LiteLLM_JWTKeyMapping is admitted exactly as that virtual key, by its hash, so
 * the key's limits, budget, models and spend rows hold its calls. Which key a claim maps to is read from Postgres and
 * kept per isolate for MAPPING_TTL_MS; the key's own state (blocked, deleted, budget) is never kept here: every call
 * asks the key's limiter, as a call with the key itself does. A token without a mapping goes on to the team/user
 * mapping (`unregistered_jwt_client_behavior: fallback_team_mapping`, the default) or is refused with 403.
 */
import { claimField, type JwtAuthSettings } from '../config/jwt-schema.ts';
import { type DatabaseEnv, openDatabase } from '../db/client.ts';
import { pgCode, UNDEFINED_TABLE } from '../db/pg-code.ts';
import { GatewayError } from '../errors.ts';
import { log } from '../telemetry/log.ts';
import { isNamesNoOne } from './jwt-refusals.ts';
import type { JwtCaller } from './jwt-identity.ts';
import { claimAt } from './jwt-claims.ts';
import type { Claims } from './jwt-verify.ts';

/** What a token's mapping is looked up by: the claim's name and value, and the token's `iss`. */
export interface JwtClient {
  claim: string;
  value: string;
  issuer: string;
}

/** A verified token's caller before its mapping is looked up (cached with the token; resolved on every call). */
export interface UnresolvedCaller extends JwtCaller {
  client?: JwtClient;
  /** The team/user mapping's caller, or why it refused the token: used when the client has no mapping. */
  fallback?: JwtCaller | GatewayError;
}

/** The routes a JWT mapped to a key may call, beside the key's own `allowed_routes`: LiteLLM holds JWT-bound keys to `llm_api_routes` (no admin API). */
export const JWT_KEY_ROUTES: readonly string[] = ['llm_api_routes'];

/** How long an isolate uses what it read of a mapping (or of its absence): a mapping deleted, changed or added is seen within this. */
export const MAPPING_TTL_MS = 5_000;
/** While Postgres cannot be read, a mapping read within this long is still used (its key's limiter still refuses a deleted or blocked key). */
const STALE_LIMIT_MS = 60_000;
/** After a failed read, calls answer from what the isolate has for this long instead of waiting on Postgres again. */
const BACKOFF_MS = 2_000;
/** Mappings remembered per isolate; when full, the oldest go first. */
const MAX_REMEMBERED = 20_000;
/** Longest claim value looked up (LiteLLM's values are client ids, emails, subjects). */
const MAX_VALUE_CHARS = 512;

const SELECT_TOKEN = `SELECT token FROM "LiteLLM_JWTKeyMapping"
  WHERE jwt_claim_name = $1 AND jwt_claim_value = $2 AND jwt_issuer IN ($3, '') AND is_active
  ORDER BY jwt_issuer DESC LIMIT 1`;

/**
 * What Postgres text cannot hold (NUL, a lone UTF-16 surrogate): such a value could match no mapping, and sent as a
 * query parameter it makes Postgres refuse the query, which must not pass for an outage.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The mapping's lookup of a token, or undefined when it has no usable claim value. */
export function clientOf(claims: Claims, field: string): JwtClient | undefined {
  const raw = claimAt(claims, field);
  const value = typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
  if (!value || value.length > MAX_VALUE_CHARS || UNSTORABLE.test(value)) return undefined;
  const issuer = typeof claims.iss === 'string' && !UNSTORABLE.test(claims.iss) ? claims.iss : '';
  return { claim: field, value, issuer };
}

/** LiteLLM's 403 for a client without a mapping under `reject` (its words, its param); the value is the token's own. */
function refusal(field: string, client: JwtClient | undefined): GatewayError {
  const message = client
    ? `JWT Key Mapping: No registered mapping for ${field}='${client.value}'. Access denied.`
    : `JWT Key Mapping: the claim '${field}' is missing from the JWT (or is not a usable value). Access denied.`;
  return new GatewayError(message, { status: 403, type: 'auth_error', param: 'None' });
}

/**
 * Whether a failed read is Postgres refusing this one query for the value it was sent (class 22, data exception:
 * `invalid byte sequence`, a string too long) rather than the database being out of reach: anything else (no
 * SQLSTATE at all from a socket, a connection refused, too many connections) is an outage.
 */
function refusedForValue(err: unknown): boolean {
  return pgCode(err)?.startsWith('22') === true;
}

/**
 * The claim → key lookups of one gateway (one per JwtAuth): reads of the same mapping at once share one query, and
 * what was read is used for MAPPING_TTL_MS.
 */
export class JwtKeyMappings {
  readonly #env: DatabaseEnv;
  readonly #field: string;
  readonly #reject: boolean;
  readonly #known = new Map<string, { token: string | null; at: number }>();
  readonly #reading = new Map<string, Promise<string | null>>();
  #failedAt = 0;

  /** `settings` name the claim (claimField); JwtAuth makes one only then. */
  constructor(settings: JwtAuthSettings, env: Record<string, unknown>) {
    this.#field = claimField(settings) ?? '';
    // auto_register makes no key here (warned at start): an unmapped client is refused, as with reject.
    this.#reject = (settings.unregistered_jwt_client_behavior ?? 'fallback_team_mapping') !== 'fallback_team_mapping';
    const text = (name: string) => (typeof env[name] === 'string' && env[name] ? env[name] : undefined);
    this.#env = { DATABASE_URL: text('DATABASE_URL'), DATABASE_WSPROXY: text('DATABASE_WSPROXY') };
  }

  /**
   * A verified token's caller with its client claim read, once per token: an admin-scope token stays an admin; any
   * other carries its client and what the team/user mapping makes of it (its refusal kept for later, since a token
   * mapped to a key needs to name no team or user).
   */
  unresolved(claims: Claims, teamCaller: () => JwtCaller): UnresolvedCaller {
    let fallback: JwtCaller | GatewayError;
    try {
      fallback = teamCaller();
    } catch (err) {
      // Only the refusals marked as naming no team, user or role wait for the lookup (a mapped token needs none:
      // the key's rules hold it); any other (an email domain not allowed) is about the token itself and stands.
      if (!isNamesNoOne(err)) throw err;
      fallback = err;
    }
    if (!(fallback instanceof GatewayError) && fallback.admin) return fallback;
    const client = clientOf(claims, this.#field);
    return { admin: false, token: '', ...(client ? { client } : {}), fallback };
  }

  /** The caller a call is admitted as: the mapped key's hash, else the fallback, else a 403 (see above). */
  async resolve(caller: UnresolvedCaller, now = Date.now()): Promise<JwtCaller> {
    if (!caller.fallback) return caller;
    const token = caller.client ? await this.tokenFor(caller.client, now) : null;
    if (token) return { admin: false, token, mapped: true };
    if (this.#reject) throw refusal(this.#field, caller.client);
    if (caller.fallback instanceof GatewayError) throw caller.fallback;
    return caller.fallback;
  }

  /** The hash of the key a client is mapped to (null: none), read at most every MAPPING_TTL_MS per isolate. */
  async tokenFor(client: JwtClient, now = Date.now()): Promise<string | null> {
    const id = JSON.stringify([client.claim, client.value, client.issuer]);
    const known = this.#known.get(id);
    if (known && now - known.at < MAPPING_TTL_MS) return known.token;
    const usable = known && now - known.at < STALE_LIMIT_MS ? known : undefined;
    if (now - this.#failedAt < BACKOFF_MS) return this.#unreadable(usable);
    let reading = this.#reading.get(id);
    if (!reading) {
      reading = this.#read(client).finally(() => this.#reading.delete(id));
      this.#reading.set(id, reading);
    }
    try {
      const token = await reading;
      this.#remember(id, token, now);
      return token;
    } catch (err) {
      log.error('JWT key mapping: LiteLLM_JWTKeyMapping could not be read:', err instanceof Error ? err.message : String(err));
      // A query Postgres refused for its value maps nothing; only an unreachable database holds back other calls.
      if (refusedForValue(err)) return null;
      this.#failedAt = now;
      return this.#unreadable(usable);
    }
  }

  #unreadable(usable: { token: string | null } | undefined): string | null {
    if (usable) return usable.token;
    throw new GatewayError('JWT key mapping: the database could not be read to find this JWT\'s virtual key; try again shortly', { status: 503, type: 'no_db_connection' });
  }

  #remember(id: string, token: string | null, at: number): void {
    if (this.#known.size >= MAX_REMEMBERED && !this.#known.has(id)) {
      for (const old of this.#known.keys()) {
        this.#known.delete(old);
        if (this.#known.size < MAX_REMEMBERED / 2) break;
      }
    }
    this.#known.delete(id);
    this.#known.set(id, { token, at });
  }

  async #read(client: JwtClient): Promise<string | null> {
    // A gateway without a database has no mappings.
    if (!this.#env.DATABASE_URL) return null;
    const database = openDatabase(this.#env);
    try {
      const { rows } = await database.pool.query<{ token: string }>(SELECT_TOKEN, [client.claim, client.value, client.issuer]);
      return rows[0]?.token ?? null;
    } catch (err) {
      // A database not yet migrated to 0012 has no mappings.
      if (pgCode(err) === UNDEFINED_TABLE) return null;
      throw err;
    } finally {
      await database.close();
    }
  }
}
