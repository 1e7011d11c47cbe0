import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';
import { userDeleteRoutes } from './users/delete.ts';
import { userReadRoutes } from './users/read.ts';
import { userWriteRoutes } from './users/write.ts';

/** The users routes of the management API (LiteLLM-compatible shapes). */
export const usersRoutes = new Hono<AdminBindings>();

for (const routes of [userWriteRoutes, userDeleteRoutes, userReadRoutes]) usersRoutes.route('/', routes);
