import { app } from './app.ts';
import type { GatewayEnv } from './env.ts';
import { scheduledTick } from './jobs/scheduled.ts';

export { EntityLimiter } from './limits/entity-limiter.ts';
export { MetricsAggregator } from './telemetry/metrics/aggregator.ts';
export { DeploymentHealth } from './router/health-object.ts';

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => scheduledTick(env, ctx, controller.scheduledTime),
} satisfies ExportedHandler<GatewayEnv>;
