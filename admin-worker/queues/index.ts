import { runtimeConfig } from '../../worker/config/runtime.ts';
import type { AdminEnv } from '../env.ts';
import { CALLBACK_QUEUE, consumeCallbacks } from './callbacks.ts';
import { consumeDeadSpendLogs, consumeSpendLogs, SPEND_LOG_DLQ, SPEND_LOG_QUEUE } from './spend-logs.ts';

export type QueueConsumer = (batch: MessageBatch<unknown>, env: AdminEnv, ctx: ExecutionContext) => Promise<void>;

/**
 * `general_settings.disable_spend_updates`: LiteLLM's spend writer (`DBSpendUpdateWriter.update_database`)
 * then returns before anything, so a call writes no spend-log row and no daily rollup, and adds nothing to a
 * key's, user's, team's, organization's, end user's or tag's spend: the batch is acked unwritten. A config
 * that cannot load writes as usual: spend is never dropped for it.
 */
function unlessSpendUpdatesDisabled(consume: QueueConsumer): QueueConsumer {
  return async function consumeUnlessDisabled(batch, env, ctx) {
    let disabled = false;
    try {
      disabled = runtimeConfig(env as unknown as Record<string, unknown>).config.general_settings.disable_spend_updates === true;
    } catch {
      disabled = false;
    }
    if (disabled) {
      batch.ackAll();
      return;
    }
    await consume(batch, env, ctx);
  };
}

/** Queue name (as in admin-worker/wrangler.toml) → its consumer. */
export const QUEUE_CONSUMERS: Record<string, QueueConsumer> = {
  [SPEND_LOG_QUEUE]: unlessSpendUpdatesDisabled(consumeSpendLogs),
  [SPEND_LOG_DLQ]: unlessSpendUpdatesDisabled(consumeDeadSpendLogs),
  [CALLBACK_QUEUE]: consumeCallbacks,
};
