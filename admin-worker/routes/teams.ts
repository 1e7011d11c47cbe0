import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The teams routes of the management API (LiteLLM-compatible shapes). */
export const teamsRoutes = new Hono<AdminBindings>();
