import { boundedRead } from '../../db/bounded-read.ts';
import type { DatabaseEnv } from '../../db/client.ts';

/** How long a user's email is waited for (the metrics shard's budget emails, the admin Worker's key emails) before the email is given up (logged). */
const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * LiteLLM_UserTable.user_email of `userId` (LiteLLM's `_lookup_user_email_from_db`), on a connection of its own,
 * given up after LOOKUP_TIMEOUT_MS (db/bounded-read.ts). Rejects when the read fails or times out.
 */
export function userEmail(env: DatabaseEnv, userId: string): Promise<string | undefined> {
  return boundedRead(env, LOOKUP_TIMEOUT_MS, async (client) => {
    const { rows } = await client.query<{ user_email: string | null }>('SELECT user_email FROM "LiteLLM_UserTable" WHERE user_id = $1 LIMIT 1', [userId]);
    return rows[0]?.user_email?.trim() || undefined;
  });
}
