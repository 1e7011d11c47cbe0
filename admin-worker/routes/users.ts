import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The users routes of the management API (LiteLLM-compatible shapes). */
export const usersRoutes = new Hono<AdminBindings>();
