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
