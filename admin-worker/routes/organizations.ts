import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';
import { organizationMemberRoutes } from './organizations/members.ts';
import { organizationReadRoutes } from './organizations/read.ts';
import { organizationWriteRoutes } from './organizations/write.ts';

/** The organizations routes of the management API (LiteLLM-compatible shapes). */
export const organizationsRoutes = new Hono<AdminBindings>();

for (const routes of [organizationWriteRoutes, organizationMemberRoutes, organizationReadRoutes]) organizationsRoutes.route('/', routes);
