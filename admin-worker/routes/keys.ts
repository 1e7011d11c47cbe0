import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';

/** The keys routes of the management API (LiteLLM-compatible shapes). */
export const keysRoutes = new Hono<AdminBindings>();
