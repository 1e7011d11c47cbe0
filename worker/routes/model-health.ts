import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { mayCall } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { checkedInBackground, healthCheckIntervalMs, healthReport, latestHealthChecks, probeDeployments } from '../models/health-probes.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `GET /health` (`?model=<group>`): LiteLLM's model health check of every
 * deployment the caller may call (wildcard groups aside), probed now
 * (models/health-probes.ts), or with `general_settings.background_health_checks`
 * each one's latest background result. Answers `{healthy_endpoints,
 * unhealthy_endpoints, healthy_count, unhealthy_count}`.
 */
export async function modelHealth(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const only = c.req.query('model');
  const catalog = await currentCatalog(state, c.env, c.executionCtx, only ? { missing: only } : {});
  const deployments: DeploymentRef[] = [];
  for (const [group, list] of catalog.groups) {
    if (group.includes('*') || (only !== undefined && group !== only) || !mayCall(caller, group, catalog)) continue;
    deployments.push(...list);
  }
  if (only !== undefined && deployments.length === 0) {
    throw new GatewayError(`Invalid model name passed in model=${only}. Call \`/v1/models\` to view available models for your key.`, { status: 400, type: 'bad_request_error', param: 'model' });
  }
  const general = state.config.general_settings;
  if (general.background_health_checks === true) {
    // Checked in the background (jobs/background-health.ts): each deployment's latest stored result, none before its
    // first check, and none older than two intervals (a stopped cron must not keep reporting the last state).
    const checked = deployments.filter(checkedInBackground);
    const stored = await latestHealthChecks(c.env, checked.map((d) => d.id));
    const since = Date.now() - 2 * healthCheckIntervalMs(general) - 60_000;
    const fresh = checked.filter((d) => (stored.get(d.id)?.checkedAt.getTime() ?? 0) >= since);
    return c.json(healthReport(fresh.map((d) => ({ deployment: d, error: stored.get(d.id)?.error }))));
  }
  return c.json(healthReport(await probeDeployments(c.env, deployments, state.config.litellm_settings.drop_params === true)));
}
