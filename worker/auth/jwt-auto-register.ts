/**
 * LiteLLM's `unregistered_jwt_client_behavior: auto_register`: the first verified token of a client with no mapping
 * mints a virtual key and maps the client to it, with no admin call; the call goes on as that key. The key, its
 * mapping and their audit rows are written in one transaction, and the mapping's unique (claim, value, issuer)
 * constraint settles a race: of two first calls of one client (on any isolates), the second's INSERT ... ON CONFLICT
 * waits for the first to commit, finds its mapping, rolls its own key back and uses the winner's. The plain key is
 * never shown to anyone (only its hash is stored): the client keeps calling with its JWT.
 */
import type { PoolClient } from '@neondatabase/serverless';
import type { JwtAuthSettings } from '../config/jwt-schema.ts';
import { type DatabaseEnv, openDatabase } from '../db/client.ts';
import { jwtSubjectPolicy } from '../limits/jwt-policy.ts';
import { toGatewayError } from '../limits/refusals.ts';
import { abbreviateKey, hashKey, newPlainKey } from './secrets.ts';
import { type AutoRegisterOptions, mintedKeyLimits } from './jwt-auto-register-params.ts';
import type { JwtClient } from './jwt-key-mapping.ts';

/** Who the key, the mapping and their audit rows say made them (LiteLLM's `created_by` of a key nobody asked for). */
export const AUTO_REGISTER_ACTOR = 'auto_register';

/** What minting found: the key hash the client is mapped to now, or that an admin paused its mapping (no key made). */
export type Minted = { token: string } | { paused: true };

const INSERT_KEY = `INSERT INTO "LiteLLM_VerificationToken"
  (token, key_name, user_id, team_id, organization_id, metadata, blocked, created_by, updated_by,
   models, max_budget, tpm_limit, rpm_limit, max_parallel_requests, expires, budget_duration, budget_reset_at)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, false, $7, $7, $8, $9, $10, $11, $12, $13, $14, $15)`;

const INSERT_MAPPING = `INSERT INTO "LiteLLM_JWTKeyMapping"
  (jwt_claim_name, jwt_claim_value, jwt_issuer, token, description, created_by, updated_by)
  VALUES ($1, $2, $3, $4, $5, $6, $6)
  ON CONFLICT ON CONSTRAINT "LiteLLM_JWTKeyMapping_claim_issuer_key" DO NOTHING
  RETURNING id, created_at`;

/** Any mapping of the client, for its issuer or any issuer ('' ), active or not: a paused one comes first. */
const SELECT_EXISTING = `SELECT token, is_active FROM "LiteLLM_JWTKeyMapping"
  WHERE jwt_claim_name = $1 AND jwt_claim_value = $2 AND jwt_issuer IN ($3, '')
  ORDER BY is_active ASC, jwt_issuer DESC LIMIT 1`;

const INSERT_AUDIT = `INSERT INTO "LiteLLM_AuditLog"
  (changed_by, changed_by_api_key, action, table_name, object_id, updated_values)
  VALUES ($1, '', 'created', $2, $3, $4::json)`;

/** The team, user and organization a minted key belongs to. */
interface Owner { teamId: string | null; userId: string | null; orgId: string | null }

/**
 * Mints the client's key and mapping (see above), or returns the mapping another call made first. `subjects`: the
 * made-up keys of what the token's team/user mapping names (jwt-subject.ts), one per team `team_ids_jwt_field` lists
 * (in order), else one. Their policy (limits/jwt-policy.ts: the team, user and organization must exist, or are
 * upserted as the settings say) is read before the write transaction (its bind of a user by email is a write of its
 * own that may fail harmlessly): a token that policy refuses mints nothing and gets the policy's refusal, as its call
 * would without auto_register; else the key belongs to the team, user and organization it resolves, as in LiteLLM.
 * A mapping of the client paused by an admin, for its issuer or for any issuer, is never replaced. `options`: the
 * key defaults and ceilings the key gets (jwt-auto-register-params.ts), and whether the writes are audited.
 */
export async function mintClientKey(env: DatabaseEnv, client: JwtClient, subjects: readonly string[], settings: JwtAuthSettings, options: AutoRegisterOptions): Promise<Minted> {
  const database = openDatabase(env);
  try {
    const conn = await database.pool.connect();
    try {
      return await mintIn(conn, client, subjects, settings, options);
    } finally {
      conn.release();
    }
  } finally {
    await database.close();
  }
}

async function existing(conn: PoolClient, client: JwtClient): Promise<Minted | undefined> {
  const row = (await conn.query<{ token: string; is_active: boolean }>(SELECT_EXISTING, [client.claim, client.value, client.issuer])).rows[0];
  return row ? (row.is_active ? { token: row.token } : { paused: true }) : undefined;
}

/**
 * The owner of the key: with several listed teams, the first that exists (as a call without a mapping takes,
 * jwt-teams.ts), none upserted for it; when none exists, the first listed, under the settings' upserts (or refused).
 */
async function ownerOf(conn: PoolClient, subjects: readonly string[], settings: JwtAuthSettings): Promise<Owner> {
  if (subjects.length > 1) {
    const noUpsert = { ...settings, team_id_upsert: false };
    for (const subject of subjects) {
      const policy = await jwtSubjectPolicy(conn, noUpsert, subject);
      if (!policy.refusal) return { teamId: policy.teamId ?? null, userId: policy.userId ?? null, orgId: policy.organizationId ?? null };
    }
  }
  const policy = await jwtSubjectPolicy(conn, settings, subjects[0] ?? '');
  if (policy.refusal) throw toGatewayError(policy.refusal);
  return { teamId: policy.teamId ?? null, userId: policy.userId ?? null, orgId: policy.organizationId ?? null };
}

async function mintIn(conn: PoolClient, client: JwtClient, subjects: readonly string[], settings: JwtAuthSettings, options: AutoRegisterOptions): Promise<Minted> {
  // A mapping made (or paused) since this isolate last looked, or one for any issuer that is paused: no key is made.
  const found = await existing(conn, client);
  if (found) return found;
  const subject = await ownerOf(conn, subjects, settings);
  const plain = newPlainKey();
  const token = await hashKey(plain);
  const limits = mintedKeyLimits(options, new Date());
  const metadata = { ...limits.metadata, auto_registered: true, jwt_claim_name: client.claim, jwt_issuer: client.issuer };
  const description = `auto_register: first call of ${client.claim}`;
  await conn.query('BEGIN');
  try {
    await conn.query(INSERT_KEY, [token, abbreviateKey(plain), subject.userId, subject.teamId, subject.orgId, JSON.stringify(metadata), AUTO_REGISTER_ACTOR,
      limits.models, limits.max_budget, limits.tpm_limit, limits.rpm_limit, limits.max_parallel_requests, limits.expires, limits.budget_duration, limits.budget_reset_at]);
    const { rows } = await conn.query<{ id: string }>(INSERT_MAPPING, [client.claim, client.value, client.issuer, token, description, AUTO_REGISTER_ACTOR]);
    const mapping = rows[0];
    if (!mapping) {
      // Another call mapped this client first (it committed while this INSERT waited): its key stands, this one goes.
      await conn.query('ROLLBACK');
      const winner = await existing(conn, client);
      if (!winner) throw new Error('JWT auto_register: the conflicting mapping vanished before it could be read');
      return winner;
    }
    if (options.audit !== false) {
      const key = { key_name: abbreviateKey(plain), user_id: subject.userId, team_id: subject.teamId, organization_id: subject.orgId, metadata,
        models: limits.models, max_budget: limits.max_budget, tpm_limit: limits.tpm_limit, rpm_limit: limits.rpm_limit, max_parallel_requests: limits.max_parallel_requests,
        expires: limits.expires, budget_duration: limits.budget_duration };
      await conn.query(INSERT_AUDIT, [AUTO_REGISTER_ACTOR, 'LiteLLM_VerificationToken', token, JSON.stringify(key)]);
      const row = { id: mapping.id, jwt_claim_name: client.claim, jwt_claim_value: client.value, jwt_issuer: client.issuer, description, is_active: true };
      await conn.query(INSERT_AUDIT, [AUTO_REGISTER_ACTOR, 'LiteLLM_JWTKeyMapping', mapping.id, JSON.stringify(row)]);
    }
    await conn.query('COMMIT');
    return { token };
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
