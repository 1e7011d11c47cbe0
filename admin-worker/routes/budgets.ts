import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The budgets routes of the management API (LiteLLM-compatible shapes). */
export const budgetsRoutes = new Hono<AdminBindings>();
