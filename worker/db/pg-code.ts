/** The Postgres error code, through drizzle's wrapping. */
export function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Postgres's undefined_table: a database not yet migrated to the table's migration. */
export const UNDEFINED_TABLE = '42P01';

/**
 * `read`'s rows, or `none` without a database (no DATABASE_URL: nothing is read) or before the table's migration,
 * for reads where a table with no rows is an answer: `/prompts` lists and reads config.yaml's prompts without a
 * database, as LiteLLM does, and the gateway finds no stored prompt in one not yet migrated to 0014.
 */
export async function storedRowsIfAny<T>(env: { DATABASE_URL?: string }, read: () => Promise<T>, none: T): Promise<T> {
  if (!env.DATABASE_URL) return none;
  try {
    return await read();
  } catch (err) {
    if (pgCode(err) === UNDEFINED_TABLE) return none;
    throw err;
  }
}
