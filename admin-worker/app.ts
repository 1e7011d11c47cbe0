import { Hono } from 'hono';
import { errorResponse, GatewayError } from '../worker/errors.ts';
import { adminAuth } from './lib/auth.ts';
import { badValueError } from './lib/pg-error.ts';
import type { AdminBindings } from './lib/context.ts';
import { auditRoutes } from './routes/audit.ts';
import { budgetsRoutes } from './routes/budgets.ts';
import { cacheRoutes } from './routes/cache.ts';
import { credentialsRoutes } from './routes/credentials.ts';
import { mcpServersRoutes } from './routes/mcp-servers.ts';
import { agentsRoutes } from './routes/agents.ts';
import { jwtKeyMappingRoutes } from './routes/jwt-key-mapping.ts';
import { customersRoutes } from './routes/customers.ts';
import { docsRoutes } from './routes/docs.ts';
import { configRoutes } from './routes/config.ts';
import { emailSettingsRoutes } from './routes/email-settings.ts';
import { healthServicesRoutes } from './routes/health-services.ts';
import { invitationsRoutes } from './routes/invitations.ts';
import { onboardingRoutes } from './routes/invitations/onboarding.ts';
import { keysRoutes } from './routes/keys.ts';
import { modelsRoutes } from './routes/models.ts';
import { modelHubRoutes } from './routes/model-hub.ts';
import { organizationsRoutes } from './routes/organizations.ts';
import { promptsRoutes } from './routes/prompts.ts';
import { routerSettingsRoutes } from './routes/router-settings.ts';
import { spendRoutes } from './routes/spend.ts';
import { activityRoutes } from './routes/spend/activity.ts';
import { spendCalculateRoutes } from './routes/spend/calculate.ts';
import { spendResetRoutes } from './routes/spend/reset.ts';
import { tagsRoutes } from './routes/tags.ts';
import { dailyActivityRoutes } from './routes/spend/daily-activity.ts';
import { teamsRoutes } from './routes/teams.ts';
import { usersRoutes } from './routes/users.ts';

export const app = new Hono<AdminBindings>();

// Public: the API description (generated from the same zod schemas that validate requests).
app.get('/openapi.json', async (c) => c.json((await import('./lib/openapi.ts')).openApiDocument()));
app.route('/', docsRoutes);
// Public as in LiteLLM: an invited user claims its link before it has a key (routes/invitations/onboarding.ts).
app.route('/', onboardingRoutes);

app.use('*', adminAuth);

for (const routes of [dailyActivityRoutes, keysRoutes, teamsRoutes, usersRoutes, customersRoutes, organizationsRoutes, budgetsRoutes, modelsRoutes, modelHubRoutes, credentialsRoutes, mcpServersRoutes, agentsRoutes, jwtKeyMappingRoutes, promptsRoutes, spendRoutes, activityRoutes, spendResetRoutes, spendCalculateRoutes, cacheRoutes, tagsRoutes, auditRoutes, healthServicesRoutes, invitationsRoutes, emailSettingsRoutes, configRoutes, routerSettingsRoutes]) {
  app.route('/', routes);
}

app.all('*', (c) => {
  throw new GatewayError(`Route not found: ${c.req.method} ${c.req.path.slice(0, 200)}`, { status: 404, type: 'not_found_error' });
});

app.onError((err) => errorResponse(badValueError(err) ?? err));
