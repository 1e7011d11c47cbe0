import type { GatewayEnv } from '../env.ts';
import { currentCatalog } from '../models/catalog.ts';
import { checkedInBackground, claimHealthRun, healthCheckIntervalMs, probeDeployments, storeHealthChecks } from '../models/health-probes.ts';
import { gatewayState } from '../state.ts';
import { log } from '../telemetry/log.ts';

/**
 * `general_settings.background_health_checks`: every `health_check_interval`
 * seconds (on the gateway's cron tick, each minute, that the interval aligns to
 * from the epoch) every deployment is probed, wildcard groups and those with
 * `model_info.disable_background_health_check` aside, and the results are
 * stored for `GET /health`. It runs in the gateway Worker, which holds the
 * providers' credentials; with several replicas the first to claim an
 * interval's slot runs it (claimHealthRun), the others skip it.
 */
export async function backgroundHealthChecks(env: GatewayEnv, ctx: ExecutionContext, scheduledTime: number): Promise<void> {
  const state = await gatewayState(env);
  const general = state.config.general_settings;
  if (general.background_health_checks !== true) return;
  const intervalMs = healthCheckIntervalMs(general);
  if (intervalMs > 60_000 && scheduledTime % intervalMs >= 60_000) return;
  // One run per interval for the whole deployment: every replica's cron ticks, the first to claim the slot probes.
  const slot = Math.floor(scheduledTime / intervalMs);
  const claim = await claimHealthRun(env, slot);
  if (!claim) return;
  let results;
  try {
    const catalog = await currentCatalog(state, env, ctx);
    const deployments = [...catalog.groups]
      .filter(([group]) => !group.includes('*'))
      .flatMap(([, list]) => list)
      .filter(checkedInBackground);
    results = await probeDeployments(env, deployments, state.config.litellm_settings.drop_params === true);
    await storeHealthChecks(claim.db, results, 'background', slot);
  } finally {
    await claim.release();
  }
  const unhealthy = results.filter((r) => r.error !== undefined);
  if (unhealthy.length) log.warn(`background health checks: ${unhealthy.length} of ${results.length} deployments unhealthy: ${unhealthy.map((r) => `${r.deployment.group} (${r.deployment.id})`).join(', ')}`);
}
