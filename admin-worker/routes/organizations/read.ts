/** `/organization/info` and `/organization/list`. */
import { budgetClock } from '../../lib/budget-limits.ts';
import { Hono } from 'hono';
import { callerUserId, isAdminReader } from '../../lib/auth.ts';
import { organizations } from '../../../drizzle/schema/principals.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { parseQuery } from '../../lib/validation.ts';
import { forbidden } from '../principals/access.ts';
import { anyOf } from '../principals/sql.ts';
import { organizationInfoQuery } from './schemas.ts';
import { findOrganization, membershipsOf, organizationDetail, organizationsJson } from './store.ts';

export const organizationReadRoutes = new Hono<AdminBindings>();
const TAG = 'organization management';

describeRoute({ method: 'get', path: '/organization/info', summary: 'An organization with its budget, members and teams', tag: TAG, query: organizationInfoQuery });
organizationReadRoutes.get('/organization/info', async (c) => {
  const { organization_id: id } = parseQuery(c, organizationInfoQuery);
  const { db } = c.get('db')();
  await findOrganization(db, id);
  if (!isAdminReader(c) && !(await membershipsOf(db, callerUserId(c))).some((m) => m.organization_id === id)) {
    throw forbidden(`User=${callerUserId(c)} is not a member of organization=${id}`);
  }
  return c.json(await organizationDetail(db, id, await budgetClock(c)));
});

describeRoute({ method: 'get', path: '/organization/list', summary: 'Organizations (all for admins, else those the caller belongs to)', tag: TAG });
organizationReadRoutes.get('/organization/list', async (c) => {
  const { db } = c.get('db')();
  if (isAdminReader(c)) return c.json(await organizationsJson(db, undefined, await budgetClock(c)));
  const ids = (await membershipsOf(db, callerUserId(c))).map((m) => m.organization_id);
  return c.json(ids.length ? await organizationsJson(db, anyOf(organizations.organization_id, ids), await budgetClock(c)) : []);
});
