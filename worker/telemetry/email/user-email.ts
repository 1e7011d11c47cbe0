import { type DatabaseEnv, openDatabase } from '../../db/client.ts';

/** LiteLLM_UserTable.user_email of `userId` (LiteLLM's `_lookup_user_email_from_db`), on a connection of its own. */
export async function userEmail(env: DatabaseEnv, userId: string): Promise<string | undefined> {
  const database = openDatabase(env);
  try {
    const { rows } = await database.pool.query<{ user_email: string | null }>('SELECT user_email FROM "LiteLLM_UserTable" WHERE user_id = $1 LIMIT 1', [userId]);
    return rows[0]?.user_email?.trim() || undefined;
  } finally {
    await database.close();
  }
}
