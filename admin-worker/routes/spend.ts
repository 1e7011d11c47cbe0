import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The spend routes of the management API (LiteLLM-compatible shapes). */
export const spendRoutes = new Hono<AdminBindings>();
