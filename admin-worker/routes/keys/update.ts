/** POST /key/update, /key/bulk_update, /key/block and /key/unblock: change key rows in place. */
import { and, eq, inArray } from 'drizzle-orm';
import { type KeyRow, verificationTokens } from '../../../drizzle/schema/keys.ts';
import { writeAudit } from '../../lib/audit.ts';
import { failureReason } from '../../lib/pg-error.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminContext } from '../../lib/context.ts';
import { badRequest, notFound, parseBody } from '../../lib/validation.ts';
import { actor, changedBy, handedOverCreator, requireAssignableUser, requireKeyManager, requireKeyOrganization, requireUnmappedKeys } from './access.ts';
import { enforceKeyBounds, enforceTempBudgetBound, keyGovernance } from './governance.ts';
import { checkAliasFree, checkReferences, checkValues, keyColumns } from './fields.ts';
import { checkedKeySentBack } from './stored-key-body.ts';
import { blockKeySchema, bulkUpdateKeysSchema, bulkUpdateTeamKeysSchema, resetKeySpendSchema, type UpdateKeyInput, updateKeySchema } from './schemas.ts';
import { resetLimiterSpend } from '../../../worker/limits/client.ts';
import { budgetsById, findKey, findKeysByAlias, keyObject, keyObjectWithBudget, refreshKeys, type Tx, tokenOf } from './store.ts';

const TABLE = 'LiteLLM_VerificationToken';

/**
 * The key an update names: by `key` (plain or hash) when given, where
 * `key_alias` is then the new alias; by `key_alias` alone otherwise.
 */
async function lockNamedKey(tx: Tx, key: string | null | undefined, alias: string | null | undefined): Promise<KeyRow> {
  if (key) {
    const row = await findKey(tx, await tokenOf(key), true);
    if (!row) throw notFound('Key not found in database');
    return row;
  }
  const rows = await findKeysByAlias(tx, alias ? [alias] : [], true);
  if (rows.length === 0) throw notFound(`Key not found in database: key_alias=${alias}`);
  if (rows.length > 1) throw badRequest(`More than one key has key_alias=${alias}; name the key with "key"`, 'key_alias');
  return rows[0] as KeyRow;
}

/** Returns the updated key object; tests read `response.json()[field]`, as in LiteLLM. */
export async function updateKey(c: AdminContext): Promise<Response> {
  const data = await parseBody(c, updateKeySchema);
  const clock = await budgetClock(c);
  const row = await applyKeyUpdate(c, data, clock);
  await refreshKeys(c.env, [row.token]);
  // `key` is the hash (LiteLLM echoes what was passed; a plain key is never sent back after /key/generate).
  return c.json({ key: row.token, ...(await keyObjectWithBudget(c.get('db')().db, row, true, clock)) });
}

/**
 * LiteLLM's `/key/bulk_update`: each update applied as /key/update applies
 * one, in a transaction of its own, so one refused (with its reason) leaves
 * the others done. Keys are named by their hash in the answer.
 */
export async function bulkUpdateKeys(c: AdminContext): Promise<Response> {
  const { keys } = await parseBody(c, bulkUpdateKeysSchema);
  return c.json(await applyEach(c, keys, []));
}

/**
 * LiteLLM's `/team/key/bulk_update`: one update (`update_fields`: budgets,
 * limits, models, expiry, tags, metadata) for the named keys of a team, or
 * every key of it, by a proxy admin or the team's admins; each key on its
 * own as in /key/bulk_update. A named key outside the team is refused.
 */
export async function bulkUpdateTeamKeys(c: AdminContext): Promise<Response> {
  const body = await parseBody(c, bulkUpdateTeamKeysSchema);
  const { db } = c.get('db')();
  await requireKeyManager(c, db, [body.team_id], "update this team's keys");
  const t = verificationTokens;
  // The team's keys (all of them, or those named that are in it), and the named keys outside it.
  let tokens: string[];
  let outside: FailedUpdate[] = [];
  if (body.all_keys_in_team) {
    const rows = await db.select({ token: t.token }).from(t).where(eq(t.team_id, body.team_id)).orderBy(t.created_at, t.token).limit(501);
    if (rows.length > 500) throw badRequest(`Team ${body.team_id} has more than 500 keys: name at most 500 with key_ids`, 'all_keys_in_team');
    tokens = rows.map((r) => r.token);
  } else {
    const named = [...new Set(await Promise.all((body.key_ids ?? []).map(tokenOf)))];
    const inTeam = new Set((await db.select({ token: t.token }).from(t).where(and(eq(t.team_id, body.team_id), inArray(t.token, named)))).map((r) => r.token));
    tokens = named.filter((token) => inTeam.has(token));
    outside = named.filter((token) => !inTeam.has(token)).map((token) => ({ key: token, key_info: null, failed_reason: `Key not found in team ${body.team_id}` }));
  }
  const updates = tokens.map((token) => ({ ...body.update_fields, key: token }));
  return c.json(await applyEach(c, updates, outside));
}

type FailedUpdate = { key: string; key_info: null; failed_reason: string };

/** Each update on its own (applyKeyUpdate), the refused ones named with their reason; the limiters of the keys changed told whatever happens. */
async function applyEach(c: AdminContext, updates: (UpdateKeyInput & { key: string })[], refused: FailedUpdate[]) {
  const clock = await budgetClock(c);
  const { db } = c.get('db')();
  const applied: KeyRow[] = [];
  const failed = [...refused];
  try {
    for (const update of updates) {
      try {
        applied.push(await applyKeyUpdate(c, update, clock));
      } catch (err) {
        failed.push({ key: await tokenOf(update.key), key_info: null, failed_reason: failureReason(err, 'key bulk update') });
      }
    }
  } finally {
    await refreshKeys(c.env, applied.map((r) => r.token));
  }
  const budgets = await budgetsById(db, applied.map((row) => row.budget_id));
  const successful = applied.map((row) => ({ key: row.token, key_info: keyObject(row, budgets.get(row.budget_id ?? ''), { withToken: false, clock }) }));
  return { total_requested: updates.length + refused.length, successful_updates: successful, failed_updates: failed };
}

/** One key's update, checked and written in its own transaction with its audit row; the updated row. */
async function applyKeyUpdate(c: AdminContext, data: UpdateKeyInput, clock: Awaited<ReturnType<typeof budgetClock>>): Promise<KeyRow> {
  checkValues(data);
  const { db } = c.get('db')();
  const { key: named, ...given } = data;
  // Named by alias: the alias identifies the key and is not a change.
  if (!named) delete given.key_alias;
  const { bounds } = await keyGovernance(c);
  return await db.transaction(async (tx) => {
    const existing = await lockNamedKey(tx, named, data.key_alias);
    // Logging secrets sent back masked are the stored ones (metadata is merged: one left out is kept too).
    await requireKeyManager(c, tx, [existing.team_id, ...(given.team_id !== undefined ? [given.team_id] : [])], 'update keys');
    await requireUnmappedKeys(c, tx, [existing.token], 'update a key');
    const fields = checkedKeySentBack(c, given, existing.metadata);
    enforceKeyBounds(fields, bounds, false);
    enforceTempBudgetBound(fields, existing, bounds, clock.now);
    if (fields.user_id !== undefined) await requireAssignableUser(c, tx, fields.user_id, fields.team_id !== undefined ? fields.team_id : existing.team_id);
    await requireKeyOrganization(c, tx, fields, existing);
    await checkReferences(tx, fields);
    const columns = keyColumns(fields, { existing, ...clock });
    if (columns.key_alias !== undefined && columns.key_alias !== existing.key_alias) await checkAliasFree(tx, columns.key_alias, existing.token);
    const [updated] = await tx.update(verificationTokens)
      .set({ ...columns, updated_by: actor(c), ...(fields.user_id !== undefined && fields.user_id !== existing.user_id ? handedOverCreator(c, fields.user_id) : {}) })
      .where(eq(verificationTokens.token, existing.token))
      .returning();
    if (!updated) throw notFound('Key not found in database');
    await writeAudit(tx, {
      caller: c.get('caller'), changedBy: changedBy(c), action: 'updated', table: TABLE, objectId: existing.token,
      before: await keyObjectWithBudget(tx, existing, false), after: await keyObjectWithBudget(tx, updated, false),
    });
    return updated;
  });
}

async function setBlocked(c: AdminContext, blocked: boolean): Promise<Response> {
  const data = await parseBody(c, blockKeySchema);
  const token = await tokenOf(data.key);
  const { db } = c.get('db')();
  const row = await db.transaction(async (tx) => {
    const existing = await findKey(tx, token, true);
    if (!existing) throw notFound('Key not found in database');
    await requireKeyManager(c, tx, [existing.team_id], blocked ? 'block keys' : 'unblock keys');
    await requireUnmappedKeys(c, tx, [existing.token], blocked ? 'block a key' : 'unblock a key');
    const [updated] = await tx.update(verificationTokens)
      .set({ blocked, updated_by: actor(c) })
      .where(eq(verificationTokens.token, token))
      .returning();
    if (!updated) throw notFound('Key not found in database');
    await writeAudit(tx, {
      caller: c.get('caller'), changedBy: changedBy(c), action: blocked ? 'blocked' : 'unblocked', table: TABLE, objectId: token,
      before: { blocked: existing.blocked }, after: { blocked },
    });
    return updated;
  });
  await refreshKeys(c.env, [token]);
  return c.json(await keyObjectWithBudget(db, row, true, await budgetClock(c)));
}

export const blockKey = (c: AdminContext) => setBlocked(c, true);
export const unblockKey = (c: AdminContext) => setBlocked(c, false);

/**
 * `POST /key/{key}/reset_spend` `{reset_to}`: sets the key's spend to `reset_to` (0 or more, at most its
 * current spend and its max_budget), in Postgres and in its limiter, for proxy admins and the key's team
 * admins, as LiteLLM does (a key a JWT is mapped to: proxy admins only).
 */
export async function resetKeySpend(c: AdminContext): Promise<Response> {
  const data = await parseBody(c, resetKeySpendSchema);
  const token = await tokenOf(c.req.param('key') ?? '');
  const { db } = c.get('db')();
  const before = await db.transaction(async (tx) => {
    const existing = await findKey(tx, token, true);
    if (!existing) throw notFound('Key not found in database');
    await requireKeyManager(c, tx, [existing.team_id], 'reset key spend');
    await requireUnmappedKeys(c, tx, [existing.token], 'reset the spend of a key');
    if (data.reset_to < 0) throw badRequest('reset_to must be >= 0', 'reset_to');
    if (data.reset_to > existing.spend) throw badRequest(`reset_to (${data.reset_to}) must be <= current spend (${existing.spend})`, 'reset_to');
    if (existing.max_budget !== null && data.reset_to > existing.max_budget) throw badRequest(`reset_to (${data.reset_to}) must be <= max_budget (${existing.max_budget})`, 'reset_to');
    await tx.update(verificationTokens).set({ spend: data.reset_to, updated_by: actor(c) }).where(eq(verificationTokens.token, token));
    await writeAudit(tx, {
      caller: c.get('caller'), changedBy: changedBy(c), action: 'updated', table: TABLE, objectId: token,
      before: { spend: existing.spend }, after: { spend: data.reset_to },
    });
    return existing;
  });
  await resetLimiterSpend(c.env, 'key', token, undefined, data.reset_to);
  return c.json({ key_hash: token, spend: data.reset_to, previous_spend: before.spend, max_budget: before.max_budget, budget_reset_at: before.budget_reset_at });
}
