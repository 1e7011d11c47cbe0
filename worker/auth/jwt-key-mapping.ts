/**
 * LiteLLM's JWT → virtual key mapping (`litellm_jwtauth.virtual_key_claim_field`, or its older name
 * `jwt_client_id_field`): a verified token whose claim value
 * (and issuer) has an active row in LiteLLM_JWTKeyMapping is admitted exactly as that virtual key, by its hash, so
 * the key's limits, budget, models and spend rows hold its calls. Which key a claim maps to is read from Postgres and
 * kept per isolate for MAPPING_TTL_MS; the key's own state (blocked, deleted, budget) is never kept here: every call
 * asks the key's limiter, as a call with the key itself does. A token without a mapping goes on to the team/user
 * mapping (`unregistered_jwt_client_behavior: fallback_team_mapping`, the default), is refused with 403 (`reject`),
 * or mints its own key and mapping on its first call (`auto_register`, jwt-auto-register.ts).
 */
import { claimField, type JwtAuthSettings } from '../config/jwt-schema.ts';
import { type DatabaseEnv, openDatabase } from '../db/client.ts';
import { pgCode, UNDEFINED_TABLE } from '../db/pg-code.ts';
import { GatewayError } from '../errors.ts';
import { BoundedTtlMap } from '../lib/bounded-map.ts';
import { log } from '../telemetry/log.ts';
import { isNamesNoOne } from './jwt-refusals.ts';
import { mintClientKey } from './jwt-auto-register.ts';
import type { AutoRegisterOptions } from './jwt-auto-register-params.ts';
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
/** How long auto_register remembers a policy's refusal of a client (a user or team not in the database) before minting is tried again. */
export const REFUSAL_TTL_MS = 30_000;
/** While Postgres cannot be read, a mapping read within this long is still used (its key's limiter still refuses a deleted or blocked key). */
const STALE_LIMIT_MS = 60_000;
/** After a failed read, calls answer from what the isolate has for this long instead of waiting on Postgres again. */
const BACKOFF_MS = 2_000;
/** Mappings (and auto_register's refusals) remembered per isolate; when full, the one written longest ago goes first. */
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

/** auto_register's 403 for a token its role or scopes limit: a key minted for it would call beyond them. */
function unmintable(field: string, client: JwtClient): GatewayError {
  return new GatewayError(`JWT Key Mapping: No registered mapping for ${field}='${client.value}', and auto_register mints no key for a token its role or scopes limit (enforce_rbac, enforce_scope_based_access): map the client through /jwt/key/mapping/new. Access denied.`, { status: 403, type: 'auth_error', param: 'None' });
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
  readonly #autoRegister: boolean;
  readonly #minting = new Map<string, Promise<string | null>>();
  /** auto_register's paused clients (no error) and policy refusals, per client and what its token names, until `until`. */
  readonly #refused = new BoundedTtlMap<{ error: GatewayError | undefined }>(MAX_REMEMBERED);
  /** What was read of each client's mapping and when: fresh for MAPPING_TTL_MS, kept while Postgres is out of reach up to STALE_LIMIT_MS. */
  readonly #known = new BoundedTtlMap<{ token: string | null; at: number }>(MAX_REMEMBERED);
  readonly #reading = new Map<string, Promise<string | null>>();
  #failedAt = 0;

  readonly #autoRegisterOptions: AutoRegisterOptions;
  readonly #settings: JwtAuthSettings;

  /** `settings` name the claim (claimField); JwtAuth makes one only then. `autoRegister`: what auto_register's keys get, and whether its writes are audited. */
  constructor(settings: JwtAuthSettings, env: Record<string, unknown>, autoRegister: AutoRegisterOptions = {}) {
    this.#autoRegisterOptions = autoRegister;
    this.#settings = settings;
    this.#field = claimField(settings) ?? '';
    const behavior = settings.unregistered_jwt_client_behavior ?? 'fallback_team_mapping';
    // auto_register refuses, as reject does, what it cannot mint for (no claim, a paused mapping).
    this.#reject = behavior !== 'fallback_team_mapping';
    this.#autoRegister = behavior === 'auto_register';
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

  /**
   * The caller a call is admitted as: the mapped key's hash, else (auto_register) a key minted for it, else the
   * fallback, else a 403. The token's end user (`end_user_id_jwt_field`) stays the call's end user as the key.
   */
  async resolve(caller: UnresolvedCaller, now = Date.now()): Promise<JwtCaller> {
    const fallback = caller.fallback;
    if (!fallback) return caller;
    const token = caller.client ? await this.tokenFor(caller.client, now) : null;
    const endUser = fallback instanceof GatewayError || !fallback.endUser ? {} : { endUser: fallback.endUser };
    if (token) return { admin: false, token, mapped: true, ...endUser };
    if (this.#autoRegister && caller.client) {
      // Minted only for a token its team/user mapping admits as it is: one naming no one gets that refusal, as
      // without auto_register, and one held by its role or scopes (permits) is not widened into a key of any model.
      if (fallback instanceof GatewayError) throw fallback;
      if (fallback.permits) throw unmintable(this.#field, caller.client);
      const minted = await this.#register(caller.client, fallback, now);
      if (minted) return { admin: false, token: minted, mapped: true, ...endUser };
    }
    if (this.#reject) throw refusal(this.#field, caller.client);
    if (fallback instanceof GatewayError) throw fallback;
    return fallback;
  }

  /** The hash of the key a client is mapped to (null: none), read at most every MAPPING_TTL_MS per isolate. */
  async tokenFor(client: JwtClient, now = Date.now()): Promise<string | null> {
    const id = JSON.stringify([client.claim, client.value, client.issuer]);
    const usable = this.#known.get(id, now);
    if (usable && now - usable.at < MAPPING_TTL_MS) return usable.token;
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

  /**
   * auto_register's first call of a client: mints its key and mapping (or finds the one another call made), once per
   * client at a time per isolate; null when an admin paused the client's mapping. A key is remembered as a read
   * mapping is; a paused mapping for MAPPING_TTL_MS and a policy refusal for REFUSAL_TTL_MS, so a refused client
   * does not open a database transaction on every call.
   */
  async #register(client: JwtClient, named: JwtCaller, now: number): Promise<string | null> {
    const subjects = named.alternatives?.length ? named.alternatives : [named.token];
    const id = JSON.stringify([client.claim, client.value, client.issuer]);
    const refusalId = JSON.stringify([id, ...subjects]);
    const refused = this.#refused.get(refusalId, now);
    if (refused) {
      if (refused.error) throw refused.error;
      return null;
    }
    let minting = this.#minting.get(refusalId);
    if (!minting) {
      minting = mintClientKey(this.#env, client, subjects, this.#settings, this.#autoRegisterOptions)
        .then((m) => ('token' in m ? m.token : null))
        .finally(() => this.#minting.delete(refusalId));
      this.#minting.set(refusalId, minting);
    }
    try {
      const token = await minting;
      if (token) this.#remember(id, token, now);
      else this.#refused.set(refusalId, { error: undefined }, MAPPING_TTL_MS, now);
      return token;
    } catch (err) {
      if (err instanceof GatewayError) {
        this.#refused.set(refusalId, { error: err }, REFUSAL_TTL_MS, now);
        throw err;
      }
      log.error('JWT key mapping: auto_register could not write its key and mapping:', err instanceof Error ? err.message : String(err));
      if (refusedForValue(err)) return null;
      throw new GatewayError('JWT key mapping: the database could not be written to register this JWT client\'s virtual key; try again shortly', { status: 503, type: 'no_db_connection' });
    }
  }

  #unreadable(usable: { token: string | null } | undefined): string | null {
    if (usable) return usable.token;
    throw new GatewayError('JWT key mapping: the database could not be read to find this JWT\'s virtual key; try again shortly', { status: 503, type: 'no_db_connection' });
  }

  #remember(id: string, token: string | null, at: number): void {
    this.#known.set(id, { token, at }, STALE_LIMIT_MS, at);
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
