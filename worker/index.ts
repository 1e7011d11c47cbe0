import { app } from './app.ts';
import type { GatewayEnv } from './env.ts';

export { EntityLimiter } from './limits/entity-limiter.ts';
export { MetricsAggregator } from './telemetry/metrics/aggregator.ts';
export { DeploymentHealth } from './router/health-object.ts';

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<GatewayEnv>;
