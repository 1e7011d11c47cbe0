import { app } from './app.ts';
import type { AdminEnv } from './env.ts';
import { SCHEDULED_JOBS } from './jobs/index.ts';
import { QUEUE_CONSUMERS } from './queues/index.ts';
import { withConfigEnv } from '../worker/config/config-env.ts';
import { noteEdge } from '../worker/auth/client-ip.ts';
import { log } from '../worker/telemetry/log.ts';

export default {
  // config.yaml's environment_variables sit under the Worker's own env (worker/config/config-env.ts).
  fetch: (request, env, ctx) => {
    noteEdge(request);
    return app.fetch(request, withConfigEnv(env), ctx);
  },
  async queue(batch, raw, ctx) {
    const env = withConfigEnv(raw);
    const consumer = QUEUE_CONSUMERS[batch.queue];
    if (consumer) return consumer(batch, env, ctx);
    log.error(`no consumer for queue ${batch.queue}; retrying`);
    batch.retryAll();
  },
  async scheduled(controller, raw, ctx) {
    const env = withConfigEnv(raw);
    // Jobs run independently: one failing must not stop the others.
    const results = await Promise.allSettled(SCHEDULED_JOBS.map((job) => job.run(env, ctx, controller.scheduledTime)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') log.error(`scheduled job ${SCHEDULED_JOBS[i]?.name} failed:`, r.reason instanceof Error ? r.reason.message : String(r.reason));
    });
  },
} satisfies ExportedHandler<AdminEnv, unknown>;
