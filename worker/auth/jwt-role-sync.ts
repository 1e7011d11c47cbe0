import type { PoolClient } from '@neondatabase/serverless';
import type { JwtAuthSettings, LitellmUserRole } from '../config/jwt-schema.ts';
import { type Database, type DatabaseEnv, openDatabase } from '../db/client.ts';
import { pgCode } from '../db/pg-code.ts';
import { BoundedTtlMap } from '../lib/bounded-map.ts';
import { type EntityKind, teamMemberId } from '../limits/entity-kind.ts';
import { jwtSubjectPolicy } from '../limits/jwt-policy.ts';
import { log } from '../telemetry/log.ts';
import { claimAt, idOf } from './jwt-claims.ts';
import type { JwtCaller } from './jwt-caller.ts';
import { jwtSubject } from './jwt-subject.ts';
import type { Claims } from './jwt-verify.ts';

/**
 * LiteLLM's `sync_user_role_and_teams`: the user a JWT names gets, in Postgres, the user role its
 * `jwt_litellm_role_map` entry gives it (an unmapped role leaves the stored one) and exactly the teams its
 * `team_ids_jwt_field` lists (its first MAX_SYNCED_TEAMS): it joins each listed team that exists (as a `user` member) and leaves every other
 * team its row lists, its membership budget there dropped, as LiteLLM's SCIM membership patch does. As in LiteLLM,
 * only a token its call's policy admits is synced (limits/jwt-policy.ts: an unknown organization or team refuses it
 * and writes nothing; that policy creates the user under `user_id_upsert`). The user is read without a lock first;
 * a transaction is opened only when something differs. A token naming no user, an admin's (by its scope) and one
 * mapped to a virtual key sync nothing, as in LiteLLM. Unlike LiteLLM, without `team_ids_jwt_field` the teams are
 * left alone (LiteLLM would take the user out of all of them).
 */

/** How long a user found in step with a token's role and teams is not read again (an admin's later edit is undone within this). */
const SYNCED_MS = 300_000;
/** Users remembered in step per isolate; when full, the one written longest ago goes first. */
const MAX_REMEMBERED = 10_000;
/** The most teams of one token synced (the first, in its list's order): a claim is the provider's, and bounds the writes and the memo. */
export const MAX_SYNCED_TEAMS = 64;
/** How long an unreachable database is not tried again by this isolate's syncs (a new token would wait out its connect timeout). */
export const OUTAGE_MS = 30_000;
/** Postgres's deadlock_detected and serialization_failure: the transaction is tried once more. */
const RETRIED = new Set(['40P01', '40001']);

let warnedTeamCap = false;

/**
 * The teams of a token's list claim (a list or one id), each once, in order: the first MAX_SYNCED_TEAMS of them (a
 * longer list is warned about once per isolate; the user is synced to those). Stops reading at the cap.
 */
export function syncedTeams(claim: unknown): string[] {
  const teams = new Set<string>();
  for (const item of Array.isArray(claim) ? claim : [claim]) {
    const id = idOf(item);
    if (id === null || teams.has(id)) continue;
    if (teams.size === MAX_SYNCED_TEAMS) {
      if (!warnedTeamCap) log.warn(`sync_user_role_and_teams: a token lists more than ${MAX_SYNCED_TEAMS} teams; only its first ${MAX_SYNCED_TEAMS} are synced`);
      warnedTeamCap = true;
      break;
    }
    teams.add(id);
  }
  return [...teams];
}

/**
 * Whether a failed sync means the database is out of reach (no SQLSTATE: a socket, a refused connection, a connect
 * timeout; or connection_exception, insufficient_resources, operator_intervention) rather than Postgres refusing
 * this one user's write, which holds back no other user's sync.
 */
function isOutage(err: unknown): boolean {
  const code = pgCode(err);
  return code === undefined || !/^[0-9A-Z]{5}$/.test(code) || /^(08|53|57P)/.test(code);
}

/** The memo's fingerprint of a role and teams: a SHA-256 hex, so a remembered user costs the same whatever its token lists. */
async function fingerprint(role: string | undefined, teams: string[] | undefined): Promise<string> {
  const text = JSON.stringify([role ?? null, teams ? [...teams].sort() : null]);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What a token wants of its stored user: a role (undefined: leave it) and teams (undefined: leave them). */
interface Wanted { role: LitellmUserRole | undefined; teams: string[] | undefined; email: string | null }

/** Tells an entity's limiter its rows changed (limits/client.ts refreshLimiter), passed in so this module needs no Workers types. */
export type LimiterRefresh = (kind: EntityKind, id: string) => Promise<void>;

export class JwtRoleSync {
  readonly #env: DatabaseEnv;
  readonly #refresh: LimiterRefresh;
  /** The global `litellm_jwtauth`, which the call's policy reads (its upserts; limits/jwt-policy.ts). */
  readonly #settings: JwtAuthSettings;
  /** User id → the fingerprint of the role and teams last found (or made) stored, per isolate: a steady caller's new token pays a map read. */
  readonly #synced = new BoundedTtlMap<string>(MAX_REMEMBERED);
  /** Until when the database counts as out of reach (isOutage): syncs are skipped, not each left to time out. */
  #outageUntil = 0;
  readonly #open: (env: DatabaseEnv) => Database;

  /** `open`: how a sync opens the database (tests pass one that fails). */
  constructor(
    env: DatabaseEnv, settings: JwtAuthSettings, refresh: LimiterRefresh,
    open: (env: DatabaseEnv) => Database = openDatabase,
  ) {
    this.#env = env;
    this.#refresh = refresh;
    this.#settings = settings;
    this.#open = open;
  }

  /**
   * Brings the token's stored user in step with it (see above), before its call goes on. A database that cannot be
   * reached or refuses the write fails no call: the user stays as it was, is logged, and is tried with the next token;
   * one that cannot be reached is not tried again by this isolate for OUTAGE_MS (logged once), so new tokens do not
   * each wait out the connect timeout.
   */
  async sync(claims: Claims, settings: JwtAuthSettings, caller: JwtCaller, now = Date.now()): Promise<void> {
    if (caller.admin || caller.mapped || !this.#env.DATABASE_URL) return;
    const subject = jwtSubject(caller.token);
    if (!subject?.userId) return;
    const role = caller.userRole;
    const teams = settings.team_ids_jwt_field === undefined ? undefined : syncedTeams(claimAt(claims, settings.team_ids_jwt_field));
    if (!role && !teams) return;
    const state = await fingerprint(role, teams);
    if (this.#synced.get(subject.userId, now) === state) return;
    if (now < this.#outageUntil) return;
    try {
      // A token listing several teams is admitted as the first of them its policy finds (jwt-team-choice.ts).
      if (!await this.#write(caller.alternatives ?? [caller.token], { role, teams, email: subject.email ?? null })) return;
    } catch (err) {
      const outage = isOutage(err);
      if (outage) this.#outageUntil = now + OUTAGE_MS;
      const why = err instanceof Error ? err.message : String(err);
      log.warn(`sync_user_role_and_teams: user ${subject.userId} was left as it was: ${why}${outage ? `; no user is synced by this isolate for ${OUTAGE_MS / 1000}s` : ''}`);
      return;
    }
    this.#synced.set(subject.userId, state, SYNCED_MS, now);
  }

  /** False when the token's policy refuses it or its user is not stored (nothing written, nothing remembered). */
  async #write(tokens: string[], wanted: Wanted): Promise<boolean> {
    const database = this.#open(this.#env);
    let changed: { user: boolean; joined: string[]; left: string[] } | undefined;
    let userId: string | null;
    try {
      // The policy its call is admitted by (the user found by id, sso_user_id, then email; created under
      // user_id_upsert): a token it refuses syncs nothing.
      userId = null;
      for (const token of tokens) {
        const policy = await jwtSubjectPolicy(database.pool, this.#settings, token);
        if (!policy.refusal) { userId = policy.userId; break; }
      }
      if (userId === null) return false;
      const stored = (await database.pool.query<{ user_role: string | null; teams: string[] | null }>(
        'SELECT user_role, teams FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId])).rows[0];
      if (!stored) return false;
      const joinable = await existingTeams(database.pool, wanted.teams?.filter((t) => !(stored.teams ?? []).includes(t)) ?? []);
      if (inStep(stored, wanted, joinable)) return true;
      const client = await database.pool.connect();
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            changed = await inTransaction(client, () => syncUser(client, userId as string, wanted, [...stored.teams ?? [], ...wanted.teams ?? []]));
            break;
          } catch (err) {
            if (attempt > 0 || !RETRIED.has((err as { code?: string }).code ?? '')) throw err;
          }
        }
      } finally {
        client.release();
      }
    } finally {
      await database.close();
    }
    if (!changed) return true;
    // After the commit, as the admin API does (/team/member_add|delete refresh the team too), so the limiters read the new rows.
    const refresh: [EntityKind, string][] = changed.user ? [['user', userId]] : [];
    for (const team of changed.joined) refresh.push(['team', team]);
    for (const team of changed.left) refresh.push(['team', team], ['team_member', teamMemberId(userId, team)]);
    await Promise.all(refresh.map(([kind, id]) => this.#refresh(kind, id).catch(() => undefined)));
    return true;
  }
}

/** The teams of `ids` that exist (LiteLLM's member add fails for the others). */
async function existingTeams(reader: Pick<PoolClient, 'query'>, ids: string[], lock = false): Promise<string[]> {
  if (!ids.length) return [];
  return (await reader.query<{ team_id: string }>(
    `SELECT team_id FROM "LiteLLM_TeamTable" WHERE team_id = ANY($1::text[]) ORDER BY team_id${lock ? ' FOR UPDATE' : ''}`, [ids])).rows.map((r) => r.team_id);
}

/** Whether the stored user already has the wanted role and teams (`joinable`: the wanted teams it lacks that exist). */
function inStep(stored: { user_role: string | null; teams: string[] | null }, wanted: Wanted, joinable: string[]): boolean {
  if (wanted.role && stored.user_role !== wanted.role) return false;
  if (!wanted.teams) return true;
  return !joinable.length && (stored.teams ?? []).every((t) => wanted.teams!.includes(t));
}

async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The writes of one sync, inside its transaction. Locks in the admin API's order (teams/member_add|delete lock the
 * team, then write the user): every team involved (`involved`: those read before plus the wanted ones) by team_id,
 * then the user's row; the user's teams are read again under the lock, and a team it joined meanwhile is locked too.
 */
async function syncUser(client: PoolClient, userId: string, wanted: Wanted, involved: string[]): Promise<{ user: boolean; joined: string[]; left: string[] }> {
  const locked = new Set(await existingTeams(client, [...new Set(involved)], true));
  const user = (await client.query<{ user_role: string | null; teams: string[] | null; user_email: string | null }>(
    'SELECT user_role, teams, user_email FROM "LiteLLM_UserTable" WHERE user_id = $1 FOR UPDATE', [userId])).rows[0];
  if (!user) return { user: false, joined: [], left: [] };
  let changed = false;
  if (wanted.role && user.user_role !== wanted.role) {
    await client.query('UPDATE "LiteLLM_UserTable" SET user_role = $2, updated_at = now() WHERE user_id = $1', [userId, wanted.role]);
    changed = true;
  }
  const teams = wanted.teams;
  if (!teams) return { user: changed, joined: [], left: [] };
  const stored = user.teams ?? [];
  const leaving = stored.filter((t) => !teams.includes(t));
  const late = leaving.filter((t) => !locked.has(t));
  if (late.length) await existingTeams(client, late, true);
  const joining = teams.filter((t) => !stored.includes(t) && locked.has(t));
  if (!joining.length && !leaving.length) return { user: changed, joined: [], left: [] };
  if (joining.length) {
    await client.query(`UPDATE "LiteLLM_TeamTable" SET members_with_roles = members_with_roles || jsonb_build_array(jsonb_build_object('role', 'user', 'user_id', $1::text, 'user_email', $2::text)), updated_at = now()
      WHERE team_id = ANY($3::text[]) AND NOT members_with_roles @> jsonb_build_array(jsonb_build_object('user_id', $1::text))`, [userId, wanted.email ?? user.user_email, joining]);
  }
  if (leaving.length) {
    await client.query(`UPDATE "LiteLLM_TeamTable" SET members_with_roles = COALESCE((SELECT jsonb_agg(m) FROM jsonb_array_elements(members_with_roles) AS m WHERE m->>'user_id' IS DISTINCT FROM $1::text), '[]'::jsonb),
      admins = array_remove(admins, $1::text), members = array_remove(members, $1::text), updated_at = now() WHERE team_id = ANY($2::text[])`, [userId, leaving]);
    await client.query('DELETE FROM "LiteLLM_TeamMembership" WHERE user_id = $1 AND team_id = ANY($2::text[])', [userId, leaving]);
  }
  const kept = stored.filter((t) => !leaving.includes(t));
  await client.query('UPDATE "LiteLLM_UserTable" SET teams = $2::text[], updated_at = now() WHERE user_id = $1', [userId, [...kept, ...joining]]);
  return { user: true, joined: joining, left: leaving };
}
