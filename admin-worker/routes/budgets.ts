import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';
import { budgetReadRoutes } from './budgets/read.ts';
import { budgetWriteRoutes } from './budgets/write.ts';

/** The budgets routes of the management API (LiteLLM-compatible shapes). */
export const budgetsRoutes = new Hono<AdminBindings>();

for (const routes of [budgetWriteRoutes, budgetReadRoutes]) budgetsRoutes.route('/', routes);
