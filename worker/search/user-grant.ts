import type { Pool } from '@neondatabase/serverless';

/**
 * A team-less subject's search-tool grant: its user's `object_permission.search_tools` (user metadata), as the
 * stand-in key's own (search/access.ts reads it there). Only that list: the user's other grants stay its own.
 */
export async function userSearchGrant(pool: Pick<Pool, 'query'>, userId: string): Promise<Record<string, unknown>> {
  const { rows } = await pool.query<{ metadata: unknown }>('SELECT metadata FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId]);
  const metadata = rows[0]?.metadata;
  const permission = metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>).object_permission : undefined;
  const tools = permission && typeof permission === 'object' ? (permission as Record<string, unknown>).search_tools : undefined;
  return Array.isArray(tools) ? { object_permission: { search_tools: tools } } : {};
}
