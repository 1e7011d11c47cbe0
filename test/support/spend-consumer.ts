import { sha256 } from './keys.ts';
import { type WorkerDbEnv, workerModule } from './worker-database.ts';

/** The spend-log consumers' env: the database, and the dead-letter queue's producer. */
export type ConsumerEnv = WorkerDbEnv & { SPEND_LOG_DLQ?: { sendBatch(m: { body: unknown }[]): Promise<void> } };
export type Consumer = (batch: FakeBatch, env: ConsumerEnv, ctx: { waitUntil(p: Promise<unknown>): void }) => Promise<void>;

export const consumers = () => workerModule<{ consumeSpendLogs: Consumer; consumeDeadSpendLogs: Consumer }>('admin-worker/queues/spend-logs.ts');

export interface FakeBatch {
  queue: string;
  messages: { id: string; timestamp: Date; body: unknown; attempts: number; ack(): void; retry(): void }[];
  ackAll(): void;
  retryAll(options?: { delaySeconds?: number }): void;
}

/** A MessageBatch as the runtime hands it over, recording what the consumer answered. */
export function fakeBatch(bodies: unknown[], attempts = 1) {
  const outcome: { acked: boolean; retry?: { delaySeconds?: number } } = { acked: false };
  const batch: FakeBatch = {
    queue: 'tollgate-spend-logs',
    messages: bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), body, attempts, ack() {}, retry() {} })),
    ackAll: () => void (outcome.acked = true),
    retryAll: (options) => void (outcome.retry = options ?? {}),
  };
  return { batch, outcome };
}

/** Runs the consumer on the batch and waits for what it left to waitUntil. */
export async function consume(consumer: Consumer, batch: FakeBatch, env: ConsumerEnv) {
  const pending: Promise<unknown>[] = [];
  await consumer(batch, env, { waitUntil: (p) => void pending.push(p) });
  await Promise.all(pending);
}

let seq = 0;
/** A spend-log record as the gateway sends it (worker/telemetry/spend-log.ts). */
export function record(fields: Record<string, unknown> = {}) {
  const t = new Date('2026-11-20T10:00:00Z').getTime() + seq * 1000;
  return {
    request_id: `req-${++seq}-${Math.random().toString(36).slice(2, 8)}`, call_type: 'acompletion', api_key: sha256('sk-unit-a'),
    spend: 0.001, total_tokens: 15, prompt_tokens: 10, completion_tokens: 5, cache_read_input_tokens: 2, cache_creation_input_tokens: 1,
    startTime: new Date(t).toISOString(), endTime: new Date(t + 50).toISOString(), completionStartTime: null, request_duration_ms: 50,
    model: 'gpt-4o', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1',
    user: 'unit-user', metadata: { user_api_key_alias: null }, cache_hit: false, cache_key: null, request_tags: ['alpha'],
    team_id: 'unit-team', organization_id: 'unit-org', end_user: 'unit-cust', messages: null, response: null, session_id: null,
    status: 'success', error_type: null, ...fields,
  };
}
