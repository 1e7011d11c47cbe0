/** Reading customers (LiteLLM_EndUserTable) with their budgets. */
import { eq, type SQL } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { budgets } from '../../../drizzle/schema/budgets.ts';
import { endUsers } from '../../../drizzle/schema/principals.ts';
import { endUserJson, type Json } from '../../lib/serialize.ts';
import { notFound } from '../../lib/validation.ts';
import type { Tx } from '../principals/mutation.ts';

type Reader = Tx | NeonDatabase;

export const customerNotFound = (userId: string) => notFound(`End User Id=${userId} does not exist in db`);

/** Customers matching `where`, each with `litellm_budget_table`. */
export async function customersJson(db: Reader, where?: SQL): Promise<Json[]> {
  const rows = await db.select({ customer: endUsers, budget: budgets }).from(endUsers)
    .leftJoin(budgets, eq(budgets.budget_id, endUsers.budget_id))
    .where(where).orderBy(endUsers.created_at, endUsers.user_id);
  return rows.map(({ customer, budget }) => endUserJson(customer, budget));
}

export async function customerJson(db: Reader, userId: string): Promise<Json> {
  const [row] = await customersJson(db, eq(endUsers.user_id, userId));
  if (!row) throw customerNotFound(userId);
  return row;
}
