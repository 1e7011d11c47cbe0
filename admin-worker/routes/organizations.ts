import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The organizations routes of the management API (LiteLLM-compatible shapes). */
export const organizationsRoutes = new Hono<AdminBindings>();
