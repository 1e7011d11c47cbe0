import { app } from './app.ts';
import type { AdminEnv } from './env.ts';
import { consumeSpendLogs, SPEND_LOG_QUEUE } from './queues/spend-logs.ts';

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async queue(batch, env, ctx) {
    if (batch.queue === SPEND_LOG_QUEUE) return consumeSpendLogs(batch, env, ctx);
    console.error(`no consumer for queue ${batch.queue}; retrying`);
    batch.retryAll();
  },
} satisfies ExportedHandler<AdminEnv, unknown>;
