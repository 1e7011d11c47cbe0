import { eq } from 'drizzle-orm';
import { teams } from '../../drizzle/schema/teams.ts';
import { verificationTokens } from '../../drizzle/schema/keys.ts';
import { openDatabase, type DatabaseEnv } from '../db/client.ts';
import { GatewayError } from '../errors.ts';
import type { KeyPolicy, KeyStore } from './key-policy.ts';

/**
 * How long an isolate trusts a key it read. Short, because a block or delete
 * must take effect quickly; the Durable Object limiter replaces this cache
 * with a source of truth that has no staleness at all.
 */
export const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

/** The part of an ExecutionContext a store needs (Hono's and workerd's types differ). */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

const cache = new Map<string, { policy: KeyPolicy | null; until: number }>();
/** Lookups in flight, so a burst of requests for a cold key makes one query, not one each. */
const inFlight = new Map<string, Promise<KeyPolicy | null>>();

/** Key lookups against Postgres, one query per cold key per isolate. */
export class PostgresKeyStore implements KeyStore {
  readonly #env: DatabaseEnv;
  readonly #ctx: WaitUntil;
  readonly #now: () => number;

  constructor(env: DatabaseEnv, ctx: WaitUntil, now: () => number = Date.now) {
    this.#env = env;
    this.#ctx = ctx;
    this.#now = now;
  }

  async lookup(token: string): Promise<KeyPolicy | null> {
    const hit = cache.get(token);
    if (hit && hit.until > this.#now()) return hit.policy;
    const pending = inFlight.get(token);
    if (pending) {
      // Another request's query; if it fails (that request was cancelled, say), query for ourselves.
      try {
        return await pending;
      } catch {
        // fall through
      }
    }
    const query = this.#query(token);
    inFlight.set(token, query);
    try {
      const policy = await query;
      if (cache.size >= KEY_CACHE_MAX) cache.delete(cache.keys().next().value as string);
      cache.set(token, { policy, until: this.#now() + KEY_CACHE_TTL_MS });
      return policy;
    } finally {
      if (inFlight.get(token) === query) inFlight.delete(token);
    }
  }

  async #query(token: string): Promise<KeyPolicy | null> {
    const database = openDatabase(this.#env);
    try {
      const rows = await database.db
        .select({ key: verificationTokens, team: teams })
        .from(verificationTokens)
        .leftJoin(teams, eq(teams.team_id, verificationTokens.team_id))
        .where(eq(verificationTokens.token, token))
        .limit(1);
      const row = rows[0];
      if (!row) return null;
      const { key, team } = row;
      return {
        token: key.token,
        keyName: key.key_name,
        keyAlias: key.key_alias,
        userId: key.user_id,
        organizationId: key.organization_id ?? team?.organization_id ?? null,
        models: key.models,
        blocked: key.blocked === true,
        expires: key.expires,
        spend: key.spend,
        maxBudget: key.max_budget,
        metadata: key.metadata,
        tags: key.tags,
        team: team
          ? {
            id: team.team_id,
            alias: team.team_alias,
            models: team.models,
            blocked: team.blocked === true,
            organizationId: team.organization_id,
            metadata: team.metadata ?? {},
          }
          : null,
      };
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      // Not a 401: an unreachable database must not look like a bad key (LiteLLM #34479).
      console.error('key lookup failed:', err instanceof Error ? err.message : String(err));
      throw new GatewayError('Could not verify the API key: the database is unavailable', {
        status: 503, type: 'no_db_connection', retryable: true,
      });
    } finally {
      this.#ctx.waitUntil(database.close());
    }
  }
}
