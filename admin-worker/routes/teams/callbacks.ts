/**
 * LiteLLM's team-based logging: `POST /team/{team_id}/callback`, `GET /team/{team_id}/callback` and
 * `POST /team/{team_id}/disable_logging`, for proxy admins and the team's admins. The team's
 * `metadata.callback_settings` adds to the config's callbacks for its keys' calls, never takes from
 * them: Langfuse turned on, or sent to the team's own project (worker/telemetry/langfuse/logging-settings.ts);
 * LangSmith, GCS, Arize and PostHog likewise (worker/telemetry/standard/dynamic-settings.ts).
 * The team's limiter is told, so the next call follows it.
 */
import type { LoggerEnv } from '../../queues/callbacks/loggers/types.ts';
import { eq } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { Hono } from 'hono';
import { type TeamRow, teams } from '../../../drizzle/schema/teams.ts';
import { isProxyAdmin } from '../../lib/auth.ts';
import { budgetClock } from '../../lib/budget-limits.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { refuseGatewaySecretRefs, requireAdminForLoggingRefs } from '../../lib/env-refs.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { maskedVars } from '../../lib/secret-mask.ts';
import { teamJson } from '../../lib/serialize.ts';
import { notFound, parseBody } from '../../lib/validation.ts';
import { forbidden, requireTeamAdmin } from '../principals/access.ts';
import { type Changes, commit, type Tx } from '../principals/mutation.ts';
import { canonicalJson, checkCallback, type TeamCallbacks, teamCallbacks, withCallback, withCallbackSettings } from './callback-settings.ts';
import { teamCallbackBody } from './schemas.ts';

export const teamCallbackRoutes = new Hono<AdminBindings>();
const TAG = 'team management';
const CALLBACK_ROUTE = '/team/{team_id}/callback';
const DISABLE_ROUTE = '/team/{team_id}/disable_logging';

/**
 * The team, for a proxy admin or one of its admins. As LiteLLM now answers, only a proxy admin learns
 * that a team does not exist: anyone else is refused as for a team they do not administer, so these
 * routes cannot be used to probe team ids.
 */
async function teamFor(c: AdminContext, db: Tx | NeonDatabase, teamId: string, route: string, forUpdate = false): Promise<TeamRow> {
  const query = db.select().from(teams).where(eq(teams.team_id, teamId)).limit(1);
  const [row] = forUpdate ? await query.for('update') : await query;
  if (!row) {
    if (isProxyAdmin(c)) throw notFound(`Team id = ${teamId} does not exist.`);
    throw forbidden(`Call not allowed. User not proxy admin OR team admin. route=${route}, team_id=${teamId}`);
  }
  requireTeamAdmin(c, row, route);
  return row;
}

/** Stores the callbacks (audited like /team/update, secrets redacted) and has the gateway re-read the team; a no-op writes nothing. */
async function storeCallbacks(tx: Tx, changes: Changes, existing: TeamRow, callbacks: TeamCallbacks): Promise<TeamRow> {
  const metadata = withCallbackSettings(existing.metadata, callbacks);
  if (canonicalJson(metadata) === canonicalJson(existing.metadata)) return existing;
  const [row] = await tx.update(teams).set({ metadata }).where(eq(teams.team_id, existing.team_id)).returning() as [TeamRow];
  await changes.audit({ action: 'updated', table: 'LiteLLM_TeamTable', objectId: existing.team_id, before: teamJson(existing), after: teamJson(row) });
  changes.refresh('team', existing.team_id);
  return row;
}

describeRoute({ method: 'post', path: '/team/:team_id/callback', summary: "Add a logging callback to a team (langfuse, langsmith, gcs_bucket, arize, posthog: its own destination); the config's callbacks still run for the team's keys", tag: TAG, body: teamCallbackBody });
teamCallbackRoutes.post('/team/:team_id{.+}/callback', async (c) => {
  const teamId = c.req.param('team_id');
  const body = await parseBody(c, teamCallbackBody);
  const clock = await budgetClock(c);
  const team = await commit(c, async (tx, changes) => {
    const existing = await teamFor(c, tx, teamId, CALLBACK_ROUTE, true);
    checkCallback(body, c.env as unknown as LoggerEnv);
    // The admin Worker resolves os.environ/ values from its own environment when it sends the events.
    requireAdminForLoggingRefs(c, body.callback_vars, 'callback_vars');
    refuseGatewaySecretRefs(body.callback_vars, 'callback_vars');
    return storeCallbacks(tx, changes, existing, withCallback(teamCallbacks(existing.metadata), body, teamId));
  });
  return c.json({ status: 'success', data: teamJson(team, clock) });
});

describeRoute({ method: 'get', path: '/team/:team_id/callback', summary: "A team's logging callbacks and their variables, secrets masked", tag: TAG });
teamCallbackRoutes.get('/team/:team_id{.+}/callback', async (c) => {
  const teamId = c.req.param('team_id');
  const team = await teamFor(c, c.get('db')().db, teamId, CALLBACK_ROUTE);
  const callbacks = teamCallbacks(team.metadata);
  return c.json({
    status: 'success',
    data: { team_id: teamId, success_callbacks: callbacks.success_callback, failure_callbacks: callbacks.failure_callback, callback_vars: maskedVars(callbacks.callback_vars) },
  });
});

describeRoute({ method: 'post', path: '/team/:team_id/disable_logging', summary: "Clear a team's own callbacks (its lists emptied, its variables kept); the config's still log its keys' calls", tag: TAG });
teamCallbackRoutes.post('/team/:team_id{.+}/disable_logging', async (c) => {
  const teamId = c.req.param('team_id');
  await commit(c, async (tx, changes) => {
    const existing = await teamFor(c, tx, teamId, DISABLE_ROUTE, true);
    return storeCallbacks(tx, changes, existing, { ...teamCallbacks(existing.metadata), success_callback: [], failure_callback: [] });
  });
  return c.json({ status: 'success', message: `Logging disabled for team ${teamId}`, data: { team_id: teamId, success_callbacks: [], failure_callbacks: [] } });
});
