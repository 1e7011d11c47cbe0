import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';
import { teamCallbackRoutes } from './teams/callbacks.ts';
import { teamDeleteRoutes } from './teams/delete.ts';
import { teamMemberRoutes } from './teams/members.ts';
import { teamReadRoutes } from './teams/read.ts';
import { teamSelfServiceRoutes } from './teams/self-service.ts';
import { teamWriteRoutes } from './teams/write.ts';

/** The teams routes of the management API (LiteLLM-compatible shapes). */
export const teamsRoutes = new Hono<AdminBindings>();

for (const routes of [teamWriteRoutes, teamMemberRoutes, teamDeleteRoutes, teamReadRoutes, teamSelfServiceRoutes, teamCallbackRoutes]) teamsRoutes.route('/', routes);
