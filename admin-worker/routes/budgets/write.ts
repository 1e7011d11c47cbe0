/** `/budget/new`, `/budget/update`, `/budget/delete`: proxy admins only. */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { budgets, type BudgetRow } from '../../../drizzle/schema/budgets.ts';
import { requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { budgetJson } from '../../lib/serialize.ts';
import { badRequest, notFound, parseBody } from '../../lib/validation.ts';
import { assertNonNegative } from '../principals/fields.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { budgetPatch, budgetTimeZone, findBudget, MONEY_FIELDS, refreshBudgetHolders } from './rows.ts';
import { deleteBudgetBody, newBudgetBody, updateBudgetBody } from './schemas.ts';

export const budgetWriteRoutes = new Hono<AdminBindings>();
const TAG = 'budget management';
const TABLE = 'LiteLLM_BudgetTable';

const budgetNotFound = (id: string) => notFound(`Budget not found, passed budget_id=${id}`);

describeRoute({ method: 'post', path: '/budget/new', summary: 'Create a budget (limits to share between keys, orgs, customers, members)', tag: TAG, body: newBudgetBody });
budgetWriteRoutes.post('/budget/new', async (c) => {
  requireProxyAdmin(c, 'create budgets');
  const body = await parseBody(c, newBudgetBody);
  assertNonNegative(body, MONEY_FIELDS);
  const values = budgetPatch(body, await budgetTimeZone(c));
  const id = body.budget_id ?? crypto.randomUUID();
  const duplicate = () => badRequest(`Budget with id '${id}' already exists.`, 'budget_id');
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    if (await findBudget(tx, id)) throw duplicate();
    const [created] = await tx.insert(budgets).values({ ...values, budget_id: id, created_by: actor, updated_by: actor }).returning() as [BudgetRow];
    await changes.audit({ action: 'created', table: TABLE, objectId: id, after: budgetJson(created) });
    return created;
  }, { onDuplicate: duplicate });
  return c.json(budgetJson(row));
});

describeRoute({ method: 'post', path: '/budget/update', summary: 'Update a budget (only the given fields; null clears)', tag: TAG, body: updateBudgetBody });
budgetWriteRoutes.post('/budget/update', async (c) => {
  requireProxyAdmin(c, 'update budgets');
  const body = await parseBody(c, updateBudgetBody);
  if (!body.budget_id) throw badRequest('budget_id is required', 'budget_id');
  assertNonNegative(body, MONEY_FIELDS);
  const { budget_id: id, ...fields } = body;
  const values = budgetPatch(fields, await budgetTimeZone(c));
  const row = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(budgets).where(eq(budgets.budget_id, id)).for('update');
    if (!existing) throw budgetNotFound(id);
    const [updated] = await tx.update(budgets).set({ ...values, updated_by: actorName(c) }).where(eq(budgets.budget_id, id)).returning() as [BudgetRow];
    await changes.audit({ action: 'updated', table: TABLE, objectId: id, before: budgetJson(existing), after: budgetJson(updated) });
    await refreshBudgetHolders(tx, changes, id);
    return updated;
  });
  return c.json(budgetJson(row));
});

describeRoute({ method: 'post', path: '/budget/delete', summary: 'Delete a budget (whatever used it keeps no budget)', tag: TAG, body: deleteBudgetBody });
budgetWriteRoutes.post('/budget/delete', async (c) => {
  requireProxyAdmin(c, 'delete budgets');
  const { id } = await parseBody(c, deleteBudgetBody);
  const row = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(budgets).where(eq(budgets.budget_id, id)).for('update');
    if (!existing) throw budgetNotFound(id);
    // Holders are found before the delete: the foreign keys then set their budget_id to null.
    await refreshBudgetHolders(tx, changes, id);
    await tx.delete(budgets).where(eq(budgets.budget_id, id));
    await changes.audit({ action: 'deleted', table: TABLE, objectId: id, before: budgetJson(existing) });
    return existing;
  });
  return c.json(budgetJson(row));
});
