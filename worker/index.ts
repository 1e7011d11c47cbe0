import { app } from './app.ts';
import type { GatewayEnv } from './env.ts';
import { scheduledTick } from './jobs/scheduled.ts';
import { withConfigEnv } from './config/config-env.ts';
import { noteEdge } from './auth/client-ip.ts';

export { EntityLimiter } from './limits/entity-limiter.ts';
export { MetricsAggregator } from './telemetry/metrics/aggregator.ts';
export { DeploymentHealth } from './router/health-object.ts';
export { LaterWork } from './jobs/later-work.ts';
export { A2aTaskOwner } from './a2a/task-owner-object.ts';

export default {
  // config.yaml's environment_variables sit under the Worker's own env (config-env.ts).
  fetch: (request, env, ctx) => {
    noteEdge(request);
    return app.fetch(request, withConfigEnv(env), ctx);
  },
  scheduled: (controller, env, ctx) => scheduledTick(withConfigEnv(env), ctx, controller.scheduledTime),
} satisfies ExportedHandler<GatewayEnv>;
