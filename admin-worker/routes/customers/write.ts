/** `/customer/new` and `/customer/update` (also under `/end_user/`). */
import { eq } from 'drizzle-orm';
import { type EndUserRow, endUsers, type NewEndUserRow } from '../../../drizzle/schema/principals.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { currentCatalog } from '../../../worker/models/catalog.ts';
import { gatewayState } from '../../../worker/state.ts';
import { requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { endUserJson } from '../../lib/serialize.ts';
import { badRequest, parseBody } from '../../lib/validation.ts';
import { assertOneBudgetSource, budgetPatch, budgetTimeZone, hasBudgetFields, newBudgetLink, updatedBudgetLink } from '../budgets/rows.ts';
import { assertNonNegative } from '../principals/fields.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { CUSTOMER_MONEY_FIELDS, newCustomerBody, updateCustomerBody } from './schemas.ts';
import { customerJson, customerNotFound } from './store.ts';

const TABLE = 'LiteLLM_EndUserTable';

/** LiteLLM refuses a default model the proxy does not serve, with a 422. */
async function checkDefaultModel(c: AdminContext, model: string): Promise<void> {
  const catalog = await currentCatalog(await gatewayState(c.env), c.env, c.executionCtx);
  if (!catalog.groups.has(model)) {
    throw new GatewayError(`Default Model not on proxy. Configure via \`/model/new\` or config.yaml. Default_model=${model}, proxy_model_names=${JSON.stringify([...catalog.groups.keys()])}`, {
      status: 422, type: 'validation_error', param: 'default_model',
    });
  }
}

export async function newCustomer(c: AdminContext): Promise<Response> {
  requireProxyAdmin(c, 'create customers');
  const body = await parseBody(c, newCustomerBody);
  assertNonNegative(body, CUSTOMER_MONEY_FIELDS);
  const inline = hasBudgetFields(body);
  assertOneBudgetSource(body, inline);
  if (body.default_model) await checkDefaultModel(c, body.default_model);
  const timeZone = await budgetTimeZone(c);
  const duplicate = () => badRequest(`Customer already exists, passed user_id=${body.user_id}. Please pass a new user_id.`, 'user_id');
  await commit(c, async (tx, changes) => {
    const [existing] = await tx.select({ id: endUsers.user_id }).from(endUsers).where(eq(endUsers.user_id, body.user_id)).limit(1);
    if (existing) throw duplicate();
    const budgetId = await newBudgetLink(tx, changes, body, inline ? budgetPatch(body, timeZone) : undefined, actorName(c));
    const [row] = await tx.insert(endUsers).values({
      user_id: body.user_id,
      alias: body.alias ?? null,
      blocked: body.blocked ?? false,
      budget_id: budgetId,
      allowed_model_region: body.allowed_model_region ?? null,
      default_model: body.default_model ?? null,
      metadata: body.metadata ?? null,
      spend: body.spend ?? 0,
    }).returning() as [EndUserRow];
    await changes.audit({ action: 'created', table: TABLE, objectId: row.user_id, after: endUserJson(row, null) });
    changes.refresh('end_user', row.user_id);
  }, { onDuplicate: duplicate });
  return c.json(await customerJson(c.get('db')().db, body.user_id));
}

export async function updateCustomer(c: AdminContext): Promise<Response> {
  requireProxyAdmin(c, 'update customers');
  const body = await parseBody(c, updateCustomerBody);
  assertNonNegative(body, CUSTOMER_MONEY_FIELDS);
  const budgetValues = budgetPatch(body, await budgetTimeZone(c));
  const inline = Object.keys(budgetValues).length > 0;
  assertOneBudgetSource(body, inline);
  if (body.default_model) await checkDefaultModel(c, body.default_model);
  await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(endUsers).where(eq(endUsers.user_id, body.user_id)).for('update');
    if (!existing) throw customerNotFound(body.user_id);
    const patch: Partial<NewEndUserRow> = {};
    for (const field of ['alias', 'allowed_model_region', 'default_model', 'metadata'] as const) {
      if (body[field] !== undefined) (patch as Record<string, unknown>)[field] = body[field];
    }
    if (body.blocked !== undefined) patch.blocked = body.blocked ?? false;
    if (body.spend !== undefined) patch.spend = body.spend ?? 0;
    const link = await updatedBudgetLink(tx, changes, body, existing.budget_id, budgetValues, actorName(c));
    if (link !== undefined) patch.budget_id = link;
    const [row] = Object.keys(patch).length
      ? await tx.update(endUsers).set(patch).where(eq(endUsers.user_id, existing.user_id)).returning() as [EndUserRow]
      : [existing];
    await changes.audit({ action: 'updated', table: TABLE, objectId: row.user_id, before: endUserJson(existing, null), after: endUserJson(row, null) });
    changes.refresh('end_user', row.user_id);
  });
  return c.json(await customerJson(c.get('db')().db, body.user_id));
}
