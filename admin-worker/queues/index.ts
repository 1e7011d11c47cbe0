import type { AdminEnv } from '../env.ts';
import { CALLBACK_QUEUE, consumeCallbacks } from './callbacks.ts';
import { consumeDeadSpendLogs, consumeSpendLogs, SPEND_LOG_DLQ, SPEND_LOG_QUEUE } from './spend-logs.ts';

export type QueueConsumer = (batch: MessageBatch<unknown>, env: AdminEnv, ctx: ExecutionContext) => Promise<void>;

/** Queue name (as in admin-worker/wrangler.toml) → its consumer. */
export const QUEUE_CONSUMERS: Record<string, QueueConsumer> = {
  [SPEND_LOG_QUEUE]: consumeSpendLogs,
  [SPEND_LOG_DLQ]: consumeDeadSpendLogs,
  [CALLBACK_QUEUE]: consumeCallbacks,
};
