/**
 * LiteLLM_BudgetTable fields as request fields: `/budget/*` takes them
 * directly, and customers, organizations and memberships take them inline
 * and get a budget row created (or updated) for them.
 */
import { eq } from 'drizzle-orm';
import { budgets, type BudgetRow, type NewBudgetRow, tags } from '../../../drizzle/schema/budgets.ts';
import { TAG_PREFIX } from '../../../worker/limits/router-budgets.ts';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { endUsers, organizations } from '../../../drizzle/schema/principals.ts';
import { teams } from '../../../drizzle/schema/teams.ts';
import { badRequest } from '../../lib/validation.ts';
import { nextBudgetReset } from '../../../worker/limits/windows.ts';
import { dateTime, duration, jsonObject, limit, money } from '../principals/fields.ts';
import type { Changes, Tx } from '../principals/mutation.ts';

export const budgetFields = {
  max_budget: money.nullish(),
  soft_budget: money.nullish(),
  max_parallel_requests: limit.nullish(),
  tpm_limit: limit.nullish(),
  rpm_limit: limit.nullish(),
  model_max_budget: jsonObject.nullish(),
  budget_duration: duration.nullish(),
  budget_reset_at: dateTime.nullish(),
};

export const BUDGET_FIELD_NAMES = Object.keys(budgetFields) as (keyof typeof budgetFields)[];
export const MONEY_FIELDS = ['max_budget', 'soft_budget'] as const;

type BudgetInput = { [K in keyof typeof budgetFields]?: NewBudgetRow[K] | null };

/** `litellm_settings.timezone` (UTC where it is not a zone Intl knows): one rule for every budget the admin API writes. */
export { budgetTimeZone } from '../../lib/budget-limits.ts';

/** When a window of `duration` opened now ends, or null without a duration. */
export function resetAt(duration: string | null | undefined, timeZone: string, now = new Date()): Date | null {
  return duration ? nextBudgetReset(duration, now, timeZone) ?? null : null;
}

/** The budget fields the request named (null clears one), for an insert or an update. */
export function budgetPatch(input: BudgetInput, timeZone: string): Partial<NewBudgetRow> {
  const patch: Partial<NewBudgetRow> = {};
  for (const field of BUDGET_FIELD_NAMES) {
    const value = input[field];
    if (value === undefined) continue;
    (patch as Record<string, unknown>)[field] = value;
  }
  // A new duration starts a new window, unless the caller set when it ends.
  if (input.budget_duration !== undefined && input.budget_reset_at === undefined) {
    patch.budget_reset_at = resetAt(input.budget_duration, timeZone);
  }
  return patch;
}

export function hasBudgetFields(input: BudgetInput): boolean {
  return BUDGET_FIELD_NAMES.some((f) => input[f] !== undefined && input[f] !== null);
}

/** A new budget row, audited like any other creation. */
export async function createBudget(tx: Tx, changes: Changes, values: Partial<NewBudgetRow>, actor: string): Promise<BudgetRow> {
  const [row] = await tx.insert(budgets).values({ ...values, created_by: actor, updated_by: actor }).returning() as [BudgetRow];
  await changes.audit({ action: 'created', table: 'LiteLLM_BudgetTable', objectId: row.budget_id, after: row });
  return row;
}

export async function findBudget(tx: Tx, budgetId: string): Promise<BudgetRow | null> {
  const [row] = await tx.select().from(budgets).where(eq(budgets.budget_id, budgetId)).limit(1);
  return row ?? null;
}

/**
 * Inline budget fields on an update (customers, organizations), as LiteLLM
 * applies them: they edit the entity's budget row, shared or not, and every
 * holder of that row is refreshed; an entity without one gets a new row,
 * whose id is returned for the caller to link.
 */
export async function applyBudgetFields(tx: Tx, changes: Changes, budgetId: string | null, values: Partial<NewBudgetRow>, actor: string): Promise<string | null> {
  const current = budgetId ? await findBudget(tx, budgetId) : null;
  if (!current) return (await createBudget(tx, changes, values, actor)).budget_id;
  const [updated] = await tx.update(budgets).set({ ...values, updated_by: actor }).where(eq(budgets.budget_id, current.budget_id)).returning();
  await changes.audit({ action: 'updated', table: 'LiteLLM_BudgetTable', objectId: current.budget_id, before: current, after: updated });
  await refreshBudgetHolders(tx, changes, current.budget_id);
  return null;
}

/** A budget is either linked (`budget_id`) or described inline, not both (LiteLLM's rule, made explicit). */
export function assertOneBudgetSource(body: { budget_id?: string | null }, inline: boolean): void {
  if (body.budget_id && inline) throw badRequest('Pass either budget_id or budget fields (max_budget, tpm_limit, ...), not both.', 'budget_id');
}

/**
 * The budget a new entity is linked to: the `budget_id` it names (which must exist), or a new row of
 * its inline budget fields (`inline`, from budgetPatch), or none.
 */
export async function newBudgetLink(tx: Tx, changes: Changes, body: { budget_id?: string | null }, inline: Partial<NewBudgetRow> | undefined, actor: string): Promise<string | null> {
  if (inline) return (await createBudget(tx, changes, inline, actor)).budget_id;
  if (body.budget_id) await requireBudget(tx, body.budget_id);
  return body.budget_id ?? null;
}

/**
 * The budget an update leaves an entity linked to: the `budget_id` it names (which must exist; null
 * unlinks), or its inline budget fields applied to the entity's row (a new row when it has none).
 * Undefined when the link does not change.
 */
export async function updatedBudgetLink(
  tx: Tx, changes: Changes, body: { budget_id?: string | null }, existingBudgetId: string | null, inline: Partial<NewBudgetRow>, actor: string,
): Promise<string | null | undefined> {
  assertOneBudgetSource(body, Object.keys(inline).length > 0);
  let link: string | null | undefined;
  if (body.budget_id !== undefined) {
    if (body.budget_id) await requireBudget(tx, body.budget_id);
    link = body.budget_id;
  }
  if (Object.keys(inline).length) {
    const created = await applyBudgetFields(tx, changes, existingBudgetId, inline, actor);
    if (created) link = created;
  }
  return link;
}

/** A `budget_id` a request refers to must exist (LiteLLM would fail on the foreign key). */
export async function requireBudget(tx: Tx, budgetId: string): Promise<BudgetRow> {
  const row = await findBudget(tx, budgetId);
  if (!row) throw badRequest(`Budget not found, passed budget_id=${budgetId}`, 'budget_id');
  return row;
}

/**
 * Every limited entity that takes its limits from this budget (shared tiers:
 * many customers, keys or organizations may point at one row) must re-read
 * its policy after the budget changes.
 */
export async function refreshBudgetHolders(tx: Tx, changes: Changes, budgetId: string): Promise<void> {
  // One after another: they share the transaction's connection anyway.
  const keyRows = await tx.select({ id: verificationTokens.token }).from(verificationTokens).where(eq(verificationTokens.budget_id, budgetId));
  const teamRows = await tx.select({ id: teams.team_id }).from(teams).where(eq(teams.budget_id, budgetId));
  const orgRows = await tx.select({ id: organizations.organization_id }).from(organizations).where(eq(organizations.budget_id, budgetId));
  const customerRows = await tx.select({ id: endUsers.user_id }).from(endUsers).where(eq(endUsers.budget_id, budgetId));
  for (const { id } of keyRows) changes.refresh('key', id);
  for (const { id } of teamRows) changes.refresh('team', id);
  for (const { id } of orgRows) changes.refresh('org', id);
  for (const { id } of customerRows) changes.refresh('end_user', id);
  const tagRows = await tx.select({ id: tags.tag_name }).from(tags).where(eq(tags.budget_id, budgetId));
  for (const { id } of tagRows) changes.refresh('global', TAG_PREFIX + id);
}
