import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The customers routes of the management API (LiteLLM-compatible shapes). */
export const customersRoutes = new Hono<AdminBindings>();
