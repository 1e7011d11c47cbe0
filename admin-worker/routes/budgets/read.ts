/** `/budget/info`, `/budget/list`, `/budget/settings`: proxy admins and admin viewers. */
import { asc, eq } from 'drizzle-orm';
import { isAdminReader } from '../../lib/auth.ts';
import { Hono } from 'hono';
import { budgets } from '../../../drizzle/schema/budgets.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { budgetJson } from '../../lib/serialize.ts';
import { badRequest, notFound, parseBody, parseQuery } from '../../lib/validation.ts';
import { forbidden } from '../principals/access.ts';
import { anyOf } from '../principals/sql.ts';
import { budgetInfoBody, budgetSettingsQuery } from './schemas.ts';

export const budgetReadRoutes = new Hono<AdminBindings>();
const TAG = 'budget management';

function requireReader(c: AdminContext): void {
  if (!isAdminReader(c)) throw forbidden(`Not allowed to access this resource, your role=${c.get('role')}`);
}

describeRoute({ method: 'post', path: '/budget/info', summary: 'The named budgets', tag: TAG, body: budgetInfoBody });
budgetReadRoutes.post('/budget/info', async (c) => {
  requireReader(c);
  const { budgets: ids } = await parseBody(c, budgetInfoBody);
  if (ids.length === 0) throw badRequest("Specify list of budget id's to query. Passed in=[]", 'budgets');
  const rows = await c.get('db')().db.select().from(budgets).where(anyOf(budgets.budget_id, ids)).orderBy(asc(budgets.created_at));
  return c.json(rows.map(budgetJson));
});

describeRoute({ method: 'get', path: '/budget/list', summary: 'Every budget', tag: TAG });
budgetReadRoutes.get('/budget/list', async (c) => {
  requireReader(c);
  const rows = await c.get('db')().db.select().from(budgets).orderBy(asc(budgets.created_at), asc(budgets.budget_id));
  return c.json(rows.map(budgetJson));
});

/** The fields /budget/settings describes, in BudgetNewRequest's order, with LiteLLM's type names. */
const SETTINGS = [
  ['max_budget', 'Float', 'Max budget in USD; requests are refused once spend reaches it.'],
  ['soft_budget', 'Float', 'Spend in USD at which alerts fire; requests are not refused.'],
  ['max_parallel_requests', 'Integer', 'Most requests in flight at once.'],
  ['tpm_limit', 'Integer', 'Tokens per minute.'],
  ['rpm_limit', 'Integer', 'Requests per minute.'],
  ['model_max_budget', 'Object', 'Max budget per model: {"<model>": {"budget_limit": <usd>, "time_period": "30d"}}.'],
  ['budget_duration', 'String', 'How often spend resets ("30s", "30m", "30h", "30d", "1mo").'],
] as const;

describeRoute({ method: 'get', path: '/budget/settings', summary: 'A budget\'s fields with their values and descriptions', tag: TAG, query: budgetSettingsQuery });
budgetReadRoutes.get('/budget/settings', async (c) => {
  requireReader(c);
  const { budget_id: id } = parseQuery(c, budgetSettingsQuery);
  const [row] = await c.get('db')().db.select().from(budgets).where(eq(budgets.budget_id, id)).limit(1);
  if (!row) throw notFound(`Budget not found, passed budget_id=${id}`);
  return c.json(SETTINGS.map(([field, type, description]) => ({
    field_name: field,
    field_type: type,
    field_description: description,
    field_value: row[field] ?? null,
    stored_in_db: true,
    field_default_value: null,
  })));
});
