/** Request bodies and queries of `/customer/*` (= `/end_user/*`): LiteLLM's NewCustomerRequest and friends. */
import { z } from 'zod';
import { budgetFields } from '../budgets/rows.ts';
import { flag, id, idList, jsonObject, money, text } from '../principals/fields.ts';

const customerFields = {
  alias: text.nullish(),
  blocked: flag.nullish(),
  /** An existing budget to link; or give budget fields, and a budget row is created for this customer. */
  budget_id: id.nullish(),
  allowed_model_region: z.enum(['eu', 'us'], { error: 'expected "eu" or "us"' }).nullish(),
  default_model: text.nullish(),
  metadata: jsonObject.nullish(),
  spend: money.nullish(),
  ...budgetFields,
};
export const CUSTOMER_MONEY_FIELDS = ['max_budget', 'soft_budget', 'spend'] as const;

export const newCustomerBody = z.object({ user_id: id, ...customerFields });
export type NewCustomerBody = z.output<typeof newCustomerBody>;

export const updateCustomerBody = z.object({ user_id: id, ...customerFields });
export type UpdateCustomerBody = z.output<typeof updateCustomerBody>;

export const customerIdsBody = z.object({ user_ids: idList.min(1, 'at least one user id') });

export const customerInfoQuery = z.object({ end_user_id: id });
