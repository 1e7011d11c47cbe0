/**
 * Delegated keys: a key made for a user by someone else who is not a proxy admin (a team admin keying a
 * member). It calls models as that user, but it has none of the user's admin powers: on the admin API it is
 * no user (admin-worker/lib/auth.ts), and on the gateway's admin_only_routes it is no proxy admin
 * (admin-only-routes.ts). Pure SQL and predicates, so both Workers share one rule.
 */
import type { Pool } from '@neondatabase/serverless';

/**
 * LiteLLM's `litellm_proxy_admin_name`: what `created_by` holds for the master key's keys. Reserved: no user may
 * have this id (user/new, member_add, JWT upsert refuse it), and a user row that has it anyway (made before) makes
 * the marker untrusted, since that user's keys would carry it too.
 */
export const MASTER_CREATOR = 'default_user_id';

/** The 400's message for a reserved user id (each caller wraps it in its own error type). */
export const RESERVED_USER_ID_MESSAGE = `user_id=${MASTER_CREATOR} is reserved for the master key; choose another user_id`;

/** What one query tells about a virtual key's authority: its user's role, whether its row still exists, who made it. */
export interface KeyAuthority {
  userRole: string | null;
  /** False when the key's row is gone (deleted, its limiter not yet reloaded): the key no longer exists. */
  keyExists: boolean;
  createdBy: string | null;
  creatorRole: string | null;
  /** Whether a user row has the creator's id (the master marker is trusted only without one). */
  creatorExists: boolean;
}

/**
 * Reads a key's authority in one round trip: the user's role, and who made the key and that creator's role now.
 * `token` is the key's policy token (its row: a regenerated key's old value, in its grace period, is the same key).
 */
export async function keyAuthority(pool: Pick<Pool, 'query'>, userId: string, token: string): Promise<KeyAuthority> {
  const { rows } = await pool.query<{ user_role: string | null; key_exists: boolean; created_by: string | null; creator_role: string | null; creator_exists: boolean }>(
    `SELECT u.user_role, k.token IS NOT NULL AS key_exists, k.created_by, cr.user_role AS creator_role, cr.user_id IS NOT NULL AS creator_exists
       FROM (SELECT $1::text AS user_id) me
       LEFT JOIN "LiteLLM_UserTable" u ON u.user_id = me.user_id
       LEFT JOIN "LiteLLM_VerificationToken" k ON k.token = $2
       LEFT JOIN "LiteLLM_UserTable" cr ON cr.user_id = k.created_by`, [userId, token]);
  const row = rows[0];
  return {
    userRole: row?.user_role ?? null, keyExists: row?.key_exists === true, createdBy: row?.created_by ?? null,
    creatorRole: row?.creator_role ?? null, creatorExists: row?.creator_exists === true,
  };
}

/**
 * Whether a key made for `userId` is delegated (see the module doc). Keys made by the user itself, by the master
 * key (`default_user_id`, while no user row has that id) or by a user who is a proxy admin now, and keys from
 * before `created_by` was stored (null), act as their user; else a team admin could add any user to its team, key
 * them, and read their prompts or act as their team, organization or proxy admin.
 */
export function isDelegated(userId: string, key: Pick<KeyAuthority, 'createdBy' | 'creatorRole' | 'creatorExists'>): boolean {
  const { createdBy, creatorRole, creatorExists } = key;
  if (createdBy === null || createdBy === userId) return false;
  if (createdBy === MASTER_CREATOR && !creatorExists) return false;
  return creatorRole !== 'proxy_admin';
}
