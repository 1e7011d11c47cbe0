import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The models routes of the management API (LiteLLM-compatible shapes). */
export const modelsRoutes = new Hono<AdminBindings>();
