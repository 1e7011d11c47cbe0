/** Request bodies and queries of `/budget/*` (LiteLLM's BudgetNewRequest, BudgetRequest, BudgetDeleteRequest). */
import { z } from 'zod';
import { id, idList } from '../principals/fields.ts';
import { budgetFields } from './rows.ts';

export const newBudgetBody = z.object({ budget_id: id.nullish(), ...budgetFields });
export type NewBudgetBody = z.output<typeof newBudgetBody>;

/** LiteLLM's update takes the same body; a missing `budget_id` is its 400, not a 422. */
export const updateBudgetBody = newBudgetBody;

export const budgetInfoBody = z.object({ budgets: idList });

export const deleteBudgetBody = z.object({ id });

export const budgetSettingsQuery = z.object({ budget_id: id });
