/** `/organization/new`, `/organization/update`, `/organization/delete`. */
import { budgetClock } from '../../lib/budget-limits.ts';
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { verificationTokens } from '../../../drizzle/schema/keys.ts';
import { type NewOrganizationRow, organizationMemberships, type OrganizationRow, organizations } from '../../../drizzle/schema/principals.ts';
import { teams } from '../../../drizzle/schema/teams.ts';
import { requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { organizationJson } from '../../lib/serialize.ts';
import { badRequest, parseBody } from '../../lib/validation.ts';
import { budgetPatch, budgetTimeZone, createBudget, hasBudgetFields, MONEY_FIELDS, requireBudget, updatedBudgetLink } from '../budgets/rows.ts';
import { assertNonNegative } from '../principals/fields.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { removeKeys } from '../principals/remove-keys.ts';
import { anyOf } from '../principals/sql.ts';
import { removeTeams } from '../teams/delete.ts';
import { deleteOrganizationsBody, newOrganizationBody, updateOrganizationBody } from './schemas.ts';
import { findOrganization, organizationDetail, organizationNotFound, organizationsJson } from './store.ts';

export const organizationWriteRoutes = new Hono<AdminBindings>();
const TAG = 'organization management';
const TABLE = 'LiteLLM_OrganizationTable';

const onlyOneBudgetSource = () => badRequest('Pass either budget_id or budget fields (max_budget, tpm_limit, ...), not both.', 'budget_id');

describeRoute({ method: 'post', path: '/organization/new', summary: 'Create an organization (with a budget)', tag: TAG, body: newOrganizationBody });
organizationWriteRoutes.post('/organization/new', async (c) => {
  requireProxyAdmin(c, 'create organizations');
  const body = await parseBody(c, newOrganizationBody);
  assertNonNegative(body, MONEY_FIELDS);
  if (body.budget_id && hasBudgetFields(body)) throw onlyOneBudgetSource();
  const timeZone = await budgetTimeZone(c);
  const id = body.organization_id ?? crypto.randomUUID();
  const duplicate = () => badRequest(`Organization id = ${id} already exists. Please use a different organization id.`, 'organization_id');
  const actor = actorName(c);
  const created = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select({ id: organizations.organization_id }).from(organizations).where(eq(organizations.organization_id, id)).limit(1);
    if (existing) throw duplicate();
    // LiteLLM gives every organization a budget row: the one named, or a new one from the budget fields.
    const budget = body.budget_id ? await requireBudget(tx, body.budget_id) : await createBudget(tx, changes, budgetPatch(body, timeZone), actor);
    const [row] = await tx.insert(organizations).values({
      organization_id: id,
      organization_alias: body.organization_alias,
      models: body.models ?? [],
      metadata: body.metadata ?? {},
      budget_id: budget.budget_id,
      created_by: actor,
      updated_by: actor,
    }).returning() as [OrganizationRow];
    await changes.audit({ action: 'created', table: TABLE, objectId: id, after: organizationJson(row) });
    changes.refresh('org', id);
    return { row, budget };
  }, { onDuplicate: duplicate });
  return c.json(organizationJson(created.row, { budget: created.budget }));
});

async function updateOrganization(c: AdminContext): Promise<Response> {
  requireProxyAdmin(c, 'update organizations');
  const body = await parseBody(c, updateOrganizationBody);
  assertNonNegative(body, MONEY_FIELDS);
  const budgetValues = budgetPatch(body, await budgetTimeZone(c));
  const inline = Object.keys(budgetValues).length > 0;
  if (body.budget_id && inline) throw onlyOneBudgetSource();
  const actor = actorName(c);
  await commit(c, async (tx, changes) => {
    const existing = await findOrganization(tx, body.organization_id, { forUpdate: true });
    const patch: Partial<NewOrganizationRow> = { updated_by: actor };
    if (body.organization_alias !== undefined) patch.organization_alias = body.organization_alias;
    if (body.models !== undefined) patch.models = body.models ?? [];
    if (body.metadata !== undefined) patch.metadata = body.metadata ?? {};
    const link = await updatedBudgetLink(tx, changes, body, existing.budget_id, budgetValues, actor);
    if (link !== undefined) patch.budget_id = link;
    const [row] = await tx.update(organizations).set(patch).where(eq(organizations.organization_id, existing.organization_id)).returning() as [OrganizationRow];
    await changes.audit({ action: 'updated', table: TABLE, objectId: row.organization_id, before: organizationJson(existing), after: organizationJson(row) });
    changes.refresh('org', row.organization_id);
  });
  return c.json(await organizationDetail(c.get('db')().db, body.organization_id, await budgetClock(c)));
}

/**
 * As LiteLLM: an organization goes with its teams (and their keys), its
 * memberships and the keys issued under it. Teams and keys are copied to
 * their deleted tables first; the budget row stays (others may share it).
 */
async function deleteOrganizations(c: AdminContext): Promise<Response> {
  requireProxyAdmin(c, 'delete organizations');
  const { organization_ids: requested } = await parseBody(c, deleteOrganizationsBody);
  const ids = [...new Set(requested)];
  const deleted = await commit(c, async (tx, changes) => {
    const rows = await tx.select().from(organizations).where(anyOf(organizations.organization_id, ids)).for('update');
    const missing = ids.find((id) => !rows.some((r) => r.organization_id === id));
    if (missing) throw organizationNotFound(missing);
    const snapshot = await organizationsJson(tx, anyOf(organizations.organization_id, ids));
    const teamRows = await tx.select().from(teams).where(anyOf(teams.organization_id, ids)).for('update');
    await removeTeams(c, tx, changes, teamRows);
    await removeKeys(c, tx, changes, anyOf(verificationTokens.organization_id, ids));
    await tx.delete(organizationMemberships).where(anyOf(organizationMemberships.organization_id, ids));
    await tx.delete(organizations).where(anyOf(organizations.organization_id, ids));
    for (const row of rows) {
      await changes.audit({ action: 'deleted', table: TABLE, objectId: row.organization_id, before: organizationJson(row) });
      changes.refresh('org', row.organization_id);
    }
    return snapshot;
  });
  return c.json(deleted);
}

// LiteLLM serves update as PATCH and delete as DELETE; POST is accepted too, like the other resources.
describeRoute({ method: 'patch', path: '/organization/update', summary: 'Update an organization (also POST)', tag: TAG, body: updateOrganizationBody });
describeRoute({ method: 'delete', path: '/organization/delete', summary: 'Delete organizations with their teams and keys (also POST)', tag: TAG, body: deleteOrganizationsBody });
for (const method of ['patch', 'post'] as const) organizationWriteRoutes[method]('/organization/update', updateOrganization);
for (const method of ['delete', 'post'] as const) organizationWriteRoutes[method]('/organization/delete', deleteOrganizations);
