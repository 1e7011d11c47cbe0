import { type DatabaseEnv, openDatabase } from '../db/client.ts';

/** A budgeted tag created through `/tag/new` applies to a busy isolate's calls within about this long. */
export const STORED_TAGS_REFRESH_MS = 10_000;
/** A set older than this (a quiet isolate) is read again before the call that finds it is admitted. */
const STALE_MS = 2 * STORED_TAGS_REFRESH_MS;
/** How long a call waits for such a read at most; after that it goes on with what the isolate had. */
const WAIT_MS = 2_000;
/** A read still running after this is taken for lost (its request gone), and another may start. */
const LOST_READ_MS = 15_000;
const NONE: ReadonlySet<string> = new Set();

interface Known {
  names: ReadonlySet<string>;
  /** Date.now() when the set was last read (or a read failed); 0 before the first. */
  at: number;
  reading: { done: Promise<void>; since: number } | undefined;
}

/**
 * The tags with a budget of their own in Postgres (LiteLLM_TagTable rows whose budget row sets
 * `max_budget`), as this isolate last read them: a call carrying one is held to that budget
 * (router-budgets.ts). Read again in the background once the set is STORED_TAGS_REFRESH_MS old;
 * the call that finds it older than STALE_MS (the isolate's first tagged call, or a quiet
 * isolate's) waits for the read, WAIT_MS at most. A failed or slow read keeps the last set. A
 * budget changed on a tag that has one applies without this (its limiter re-reads it).
 */
export const budgetedTags = storedTagsReader(readStoredTags);

type WaitUntil = { waitUntil(p: Promise<unknown>): void };

/** budgetedTags over any way of reading the set (tests give one that hangs or fails). */
export function storedTagsReader(read: (env: DatabaseEnv) => Promise<ReadonlySet<string>>): (env: DatabaseEnv, ctx: WaitUntil) => Promise<ReadonlySet<string>> {
  let known: Known | undefined;
  let warned = false;
  return async (env, ctx) => {
    if (!env.DATABASE_URL) {
      if (!warned) console.warn('no DATABASE_URL: budgets of tags created through /tag/new do not apply (tag_budget_config in config.yaml does)');
      warned = true;
      return NONE;
    }
    const entry = (known ??= { names: NONE, at: 0, reading: undefined });
    const now = Date.now();
    if (entry.reading && now - entry.reading.since > LOST_READ_MS) entry.reading = undefined;
    if (!entry.reading && now - entry.at >= STORED_TAGS_REFRESH_MS) {
      const reading: Known['reading'] = { since: now, done: Promise.resolve() };
      reading.done = read(env).then((names) => {
        entry.names = names;
      }).catch((err: unknown) => {
        console.error('reading the budgeted tags failed:', err instanceof Error ? err.message : String(err));
      }).finally(() => {
        entry.at = Date.now();
        if (entry.reading === reading) entry.reading = undefined;
      });
      entry.reading = reading;
      ctx.waitUntil(reading.done);
    }
    if (entry.reading && now - entry.at >= STALE_MS) await waitAtMost(entry.reading.done, WAIT_MS);
    return entry.names;
  };
}

function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

async function readStoredTags(env: DatabaseEnv): Promise<ReadonlySet<string>> {
  const database = openDatabase(env);
  try {
    const { rows } = await database.pool.query<{ tag_name: string }>(
      'SELECT t.tag_name FROM "LiteLLM_TagTable" t JOIN "LiteLLM_BudgetTable" b ON b.budget_id = t.budget_id WHERE b.max_budget IS NOT NULL');
    return new Set(rows.map((r) => r.tag_name));
  } finally {
    await database.close();
  }
}
