/**
 * Reading key rows and turning them into API objects. Every way a route
 * names a key (plain `sk-...` or its hash) resolves to the hash here, so no
 * other code needs to hold a plain key longer than one hash call.
 */
import { eq, inArray } from 'drizzle-orm';
import { budgets, type BudgetRow } from '../../../drizzle/schema/budgets.ts';
import { type KeyRow, verificationTokens } from '../../../drizzle/schema/keys.ts';
import { hashKey } from '../../../worker/auth/secrets.ts';
import type { Database } from '../../../worker/db/client.ts';
import { type LimiterEnv, refreshLimiter } from '../../../worker/limits/client.ts';
import { type BudgetClock, currentBudgetLimits } from '../../lib/budget-limits.ts';
import { maskedMetadata } from '../../lib/secret-mask.ts';
import { log } from '../../../worker/telemetry/log.ts';

type Db = Database['db'];
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** A query runner: the database or an open transaction. */
export type Runner = Db | Tx;

const HASH = /^[0-9a-f]{64}$/i;

/** The SHA-256 hex a caller means: a 64-hex value is already a hash (as in LiteLLM), anything else is a key. */
export async function tokenOf(keyOrHash: string): Promise<string> {
  return HASH.test(keyOrHash) ? keyOrHash.toLowerCase() : hashKey(keyOrHash);
}

/** The row, locked for the rest of the transaction when `lock` (so before/after in the audit are exact). */
export async function findKey(db: Runner, token: string, lock = false): Promise<KeyRow | undefined> {
  const q = db.select().from(verificationTokens).where(eq(verificationTokens.token, token)).limit(1);
  return (lock ? await q.for('update') : await q)[0];
}

export async function findKeysByAlias(db: Runner, aliases: string[], lock = false): Promise<KeyRow[]> {
  if (aliases.length === 0) return [];
  const q = db.select().from(verificationTokens).where(inArray(verificationTokens.key_alias, aliases));
  return lock ? q.for('update') : q;
}

export async function budgetsById(db: Runner, ids: (string | null)[]): Promise<Map<string, BudgetRow>> {
  const wanted = [...new Set(ids.filter((id): id is string => !!id))];
  if (wanted.length === 0) return new Map();
  const rows = await db.select().from(budgets).where(inArray(budgets.budget_id, wanted));
  return new Map(rows.map((r) => [r.budget_id, r]));
}

/** JSON-safe copy of a row: Dates as ISO strings. */
export function serialize<T extends object>(row: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

/**
 * A key row as the API shows it, with its budget row (`litellm_budget_table`,
 * null unless the key has a budget_id). `token` (the hash) is left out for
 * `/key/info`, as LiteLLM drops it there. With a `clock` (answers), each of
 * `budget_limits`' `reset_at` is the end of the window open then; without
 * one (audit rows) the list is as stored. Callback secrets in `metadata`
 * (`logging[].callback_vars`) are masked, as for a team (maskedMetadata).
 */
export function keyObject(row: KeyRow, budget: BudgetRow | undefined, options: { withToken: boolean; clock?: BudgetClock }): Record<string, unknown> {
  const { token, ...rest } = serialize(row);
  return {
    ...(options.withToken ? { token } : {}),
    ...rest,
    metadata: maskedMetadata(row.metadata),
    ...(options.clock ? { budget_limits: currentBudgetLimits(row.budget_limits, options.clock) } : {}),
    litellm_budget_table: budget ? serialize(budget) : null,
  };
}

export async function keyObjectWithBudget(db: Runner, row: KeyRow, withToken: boolean, clock?: BudgetClock): Promise<Record<string, unknown>> {
  const budget = row.budget_id ? (await budgetsById(db, [row.budget_id])).get(row.budget_id) : undefined;
  return keyObject(row, budget, { withToken, clock });
}

/**
 * After a change commits: tell each affected key's limiter to re-read it, so
 * the next gateway request anywhere sees the change. The change is already
 * committed, so a failing refresh is logged, not turned into an error the
 * client would retry (a retried /key/generate would mint a second key).
 */
export async function refreshKeys(env: LimiterEnv, tokens: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(tokens)].map((token) => refreshLimiter(env, 'key', token).catch((err: unknown) => {
    log.error(`limiter refresh failed for key ${token.slice(0, 12)}...: ${err instanceof Error ? err.message : String(err)}`);
  })));
}
