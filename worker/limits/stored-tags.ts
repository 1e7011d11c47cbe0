import { type DatabaseEnv, openDatabase } from '../db/client.ts';
import { log } from '../telemetry/log.ts';

/** A budgeted tag created through `/tag/new` applies to a busy isolate's calls within about this long. */
export const STORED_TAGS_REFRESH_MS = 10_000;
/** A set older than this (a quiet isolate) is read again before the call that finds it is admitted. */
const STALE_MS = 2 * STORED_TAGS_REFRESH_MS;
/** How long a call waits for such a read at most; after that it goes on with what the isolate had. */
const WAIT_MS = 2_000;
/** A read still running after this is taken for lost (its request gone), and another may start. */
const LOST_READ_MS = 15_000;
/** The tags created through `/tag/new`: those with a budget, and the tags each model (a deployment id or a model group) is given by its tags' `models`. */
export interface StoredTags {
  budgeted: ReadonlySet<string>;
  byModel: ReadonlyMap<string, readonly string[]>;
}
const NONE: StoredTags = { budgeted: new Set(), byModel: new Map() };

interface Known {
  names: StoredTags;
  /** Date.now() when the set was last read (or a read failed); 0 before the first. */
  at: number;
  reading: { done: Promise<void>; since: number } | undefined;
}

/**
 * The tags of LiteLLM_TagTable, as this isolate last read them: those whose budget row sets
 * `max_budget` hold the calls carrying them (router-budgets.ts), and with tag-based routing a
 * tag's `models` (deployment ids or model groups) serve the calls carrying it, as LiteLLM's
 * `/tag/new` adds the tag to those deployments. Read again in the background once the set is STORED_TAGS_REFRESH_MS old;
 * the call that finds it older than STALE_MS (the isolate's first tagged call, or a quiet
 * isolate's) waits for the read, WAIT_MS at most. A failed or slow read keeps the last set. A
 * budget changed on a tag that has one applies without this (its limiter re-reads it).
 */
export const storedTags = storedTagsReader(readStoredTags);

type WaitUntil = { waitUntil(p: Promise<unknown>): void };

/** storedTags over any way of reading the set (tests give one that hangs or fails). */
export function storedTagsReader(read: (env: DatabaseEnv) => Promise<StoredTags>): (env: DatabaseEnv, ctx: WaitUntil) => Promise<StoredTags> {
  let known: Known | undefined;
  let warned = false;
  return async (env, ctx) => {
    if (!env.DATABASE_URL) {
      if (!warned) log.warn('no DATABASE_URL: tags created through /tag/new (their budgets and models) do not apply (tag_budget_config in config.yaml does)');
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
        log.error('reading the budgeted tags failed:', err instanceof Error ? err.message : String(err));
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

async function readStoredTags(env: DatabaseEnv): Promise<StoredTags> {
  const database = openDatabase(env);
  try {
    const { rows } = await database.pool.query<{ tag_name: string; models: string[] | null; budgeted: boolean }>(
      'SELECT t.tag_name, t.models, b.max_budget IS NOT NULL AS budgeted FROM "LiteLLM_TagTable" t LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = t.budget_id');
    const budgeted = new Set<string>();
    const byModel = new Map<string, string[]>();
    for (const row of rows) {
      if (row.budgeted) budgeted.add(row.tag_name);
      for (const model of row.models ?? []) byModel.set(model, [...(byModel.get(model) ?? []), row.tag_name]);
    }
    return { budgeted, byModel };
  } finally {
    await database.close();
  }
}
