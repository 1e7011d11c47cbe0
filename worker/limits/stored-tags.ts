import { type DatabaseEnv, openDatabase } from '../db/client.ts';

/** A budgeted tag created through `/tag/new` applies to this isolate's calls within this long. */
export const STORED_TAGS_REFRESH_MS = 10_000;
const NONE: ReadonlySet<string> = new Set();

let known: { names: ReadonlySet<string>; at: number; reading: Promise<void> | undefined } | undefined;

/**
 * The tags with a budget of their own in Postgres (LiteLLM_TagTable rows whose budget row sets
 * `max_budget`), as this isolate last read them: a call carrying one is held to that budget
 * (router-budgets.ts). Read when the isolate first sees a tagged call, which waits for it; then
 * again in the background at most every STORED_TAGS_REFRESH_MS. A budget changed on a tag that
 * has one applies at once (its limiter re-reads it). Without a database none; a failed read
 * keeps the last set.
 */
export async function budgetedTags(env: DatabaseEnv, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<ReadonlySet<string>> {
  if (!env.DATABASE_URL) return NONE;
  const entry = (known ??= { names: NONE, at: 0, reading: undefined });
  if (!entry.reading && Date.now() - entry.at >= STORED_TAGS_REFRESH_MS) {
    const first = entry.at === 0;
    entry.reading = read(env).then((names) => {
      entry.names = names;
    }).catch((err: unknown) => {
      console.error('reading the budgeted tags failed:', err instanceof Error ? err.message : String(err));
    }).finally(() => {
      entry.at = Date.now();
      entry.reading = undefined;
    });
    if (first) await entry.reading;
    else ctx.waitUntil(entry.reading);
  } else if (entry.at === 0 && entry.reading) {
    await entry.reading;
  }
  return entry.names;
}

async function read(env: DatabaseEnv): Promise<ReadonlySet<string>> {
  const database = openDatabase(env);
  try {
    const { rows } = await database.pool.query<{ tag_name: string }>(
      'SELECT t.tag_name FROM "LiteLLM_TagTable" t JOIN "LiteLLM_BudgetTable" b ON b.budget_id = t.budget_id WHERE b.max_budget IS NOT NULL');
    return new Set(rows.map((r) => r.tag_name));
  } finally {
    await database.close();
  }
}
