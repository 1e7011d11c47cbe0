/** `/customer/delete`, `/customer/block`, `/customer/unblock`, `/customer/info`, `/customer/list` (also under `/end_user/`). */
import { type EndUserRow, endUsers } from '../../../drizzle/schema/principals.ts';
import { isAdminReader, requireProxyAdmin } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { endUserJson } from '../../lib/serialize.ts';
import { notFound, parseBody, parseQuery } from '../../lib/validation.ts';
import { forbidden } from '../principals/access.ts';
import { pyList } from '../principals/fields.ts';
import { commit, type Tx } from '../principals/mutation.ts';
import { anyOf } from '../principals/sql.ts';
import { customerIdsBody, customerInfoQuery } from './schemas.ts';
import { customerJson, customersJson } from './store.ts';

const TABLE = 'LiteLLM_EndUserTable';

/** Locks the named customers; every one must exist (LiteLLM lists the missing ids in one 404). */
async function lockCustomers(tx: Tx, ids: string[]): Promise<EndUserRow[]> {
  const rows = await tx.select().from(endUsers).where(anyOf(endUsers.user_id, ids)).for('update');
  const missing = ids.filter((id) => !rows.some((r) => r.user_id === id));
  if (missing.length) throw notFound(`End User Id(s)=${missing.join(', ')} do not exist in db`);
  return rows;
}

export async function deleteCustomers(c: AdminContext): Promise<Response> {
  requireProxyAdmin(c, 'delete customers');
  const { user_ids: userIds } = await parseBody(c, customerIdsBody);
  const ids = [...new Set(userIds)];
  const deleted = await commit(c, async (tx, changes) => {
    const rows = await lockCustomers(tx, ids);
    await tx.delete(endUsers).where(anyOf(endUsers.user_id, ids));
    for (const row of rows) {
      await changes.audit({ action: 'deleted', table: TABLE, objectId: row.user_id, before: endUserJson(row, null) });
      changes.refresh('end_user', row.user_id);
    }
    return rows.length;
  });
  return c.json({ deleted_customers: deleted, message: `Successfully deleted customers with ids: ${pyList(userIds)}` });
}

/**
 * Blocking an id LiteLLM has not seen creates the customer, blocked (so a
 * block can precede the first request). Unblocking needs an existing customer.
 */
export async function setCustomersBlocked(c: AdminContext, blocked: boolean): Promise<Response> {
  requireProxyAdmin(c, blocked ? 'block customers' : 'unblock customers');
  const { user_ids: userIds } = await parseBody(c, customerIdsBody);
  const ids = [...new Set(userIds)];
  await commit(c, async (tx, changes) => {
    const before = blocked
      ? await tx.select().from(endUsers).where(anyOf(endUsers.user_id, ids)).for('update')
      : await lockCustomers(tx, ids);
    for (const id of ids) {
      const previous = before.find((r) => r.user_id === id);
      const [row] = await tx.insert(endUsers).values({ user_id: id, blocked })
        .onConflictDoUpdate({ target: endUsers.user_id, set: { blocked } }).returning() as [EndUserRow];
      await changes.audit({
        action: previous ? (blocked ? 'blocked' : 'unblocked') : 'created', table: TABLE, objectId: id,
        before: previous ? endUserJson(previous, null) : null, after: endUserJson(row, null),
      });
      changes.refresh('end_user', id);
    }
  });
  const rows = await customersJson(c.get('db')().db, anyOf(endUsers.user_id, ids));
  return c.json(blocked ? { blocked_users: rows } : { unblocked_users: rows });
}

export async function customerInfo(c: AdminContext): Promise<Response> {
  if (!isAdminReader(c)) throw forbidden(`Only proxy admins can view customers. Your role=${c.get('role')}`);
  const { end_user_id: id } = parseQuery(c, customerInfoQuery);
  return c.json(await customerJson(c.get('db')().db, id));
}

export async function listCustomers(c: AdminContext): Promise<Response> {
  if (!isAdminReader(c)) throw forbidden(`Admin-only endpoint. Your user role=${c.get('role')}`);
  return c.json(await customersJson(c.get('db')().db));
}
