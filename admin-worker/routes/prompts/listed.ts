/**
 * Stored prompts read for a listing (`/prompts/list`, `/prompts/{id}/versions`), which also shows config.yaml's
 * prompts: as in LiteLLM, those list without a database, so a gateway without DATABASE_URL, or whose database
 * is not yet migrated to 0014_prompt_table, lists no stored ones rather than fail.
 */
import { pgCode, UNDEFINED_TABLE } from '../../../worker/db/pg-code.ts';

/** `read`'s rows, or `none` without a database or table. */
export async function storedRowsIfAny<T>(env: { DATABASE_URL?: string }, read: () => Promise<T>, none: T): Promise<T> {
  if (!env.DATABASE_URL) return none;
  try {
    return await read();
  } catch (err) {
    if (pgCode(err) === UNDEFINED_TABLE) return none;
    throw err;
  }
}
