import { openDatabase } from '../../worker/db/client.ts';
import { measurePostgres } from '../../worker/db/measured.ts';
import { runtimeConfig } from '../../worker/config/runtime.ts';
import { scheduleFlush } from '../../worker/telemetry/metrics/buffer.ts';
import { serviceMetricsEnabled } from '../../worker/telemetry/metrics/services.ts';
import { decodePack } from '../../worker/telemetry/queue-packing.ts';
import { inSlices, yieldToRequests } from '../../worker/telemetry/yield.ts';
import type { SpendLogMessage, SpendLogRecord } from '../../worker/telemetry/spend-log.ts';
import type { AdminEnv } from '../env.ts';
import { writeSpendLogs } from './spend-logs/write.ts';
import { log } from '../../worker/telemetry/log.ts';

export const SPEND_LOG_QUEUE = 'tollgate-spend-logs';
/** Where a batch goes once the spend-log consumer has failed it SPEND_LOG_MAX_RETRIES + 1 times (wrangler.toml). */
export const SPEND_LOG_DLQ = 'tollgate-spend-logs-dlq';
/** `max_retries` of the spend-log consumer in admin-worker/wrangler.toml; only for the log line. */
const SPEND_LOG_MAX_RETRIES = 3;
/**
 * The dead-letter consumer retries a failing batch itself this many times
 * (its `max_retries` in wrangler.toml is higher, so the runtime never drops
 * it first), then puts it back on the dead-letter queue as new messages, so
 * an outage longer than the retries still loses nothing.
 */
const DLQ_REQUEUE_AFTER = 20;
/** Records per insert statement: a statement's JSON is built at once, on the thread requests share. */
const WRITE_CHUNK = 500;
/** Longest wait between two tries of a dead-letter batch: how late spend lands once Postgres is back. */
const DLQ_MAX_DELAY_S = 900;

/** The dead-letter queue's producer binding on the admin Worker (wrangler.toml), for putting dead letters back. */
type DlqEnv = AdminEnv & { SPEND_LOG_DLQ?: Queue<unknown> };

/**
 * Writes one batch of spend-log messages (see writeSpendLogs: statements of
 * up to 500 records, idempotent on request_id, rollups and entity spend from
 * the new rows only) and acks it. A failing batch (Postgres down) is retried with exponential
 * backoff (2, 4, 8 s); after `max_retries` the runtime moves it to the
 * dead-letter queue, whose consumer keeps trying.
 */
export async function consumeSpendLogs(batch: MessageBatch<unknown>, env: AdminEnv, ctx: ExecutionContext): Promise<void> {
  const records = await recordsOfBatch(batch);
  if (records.all.length === 0) {
    batch.ackAll();
    return;
  }
  try {
    await write(env, ctx, records);
    batch.ackAll();
  } catch (err) {
    const attempts = attemptsOf(batch);
    const delaySeconds = Math.min(300, 2 ** attempts);
    const next = attempts > SPEND_LOG_MAX_RETRIES ? `moving to dead-letter queue ${SPEND_LOG_DLQ}` : `retrying in ${delaySeconds} s`;
    log.error(`spend-log batch of ${records.all.length} records failed (attempt ${attempts}), ${next}: ${causeOf(err)}`);
    batch.retryAll({ delaySeconds });
  }
}

/**
 * The dead-letter queue's consumer: writes exactly as consumeSpendLogs does
 * (a batch partly written before is fine: request ids already there are
 * skipped), and never acks a batch it could not write. It retries with a
 * longer backoff (15 s doubling to 15 min), says so loudly each time, and
 * after DLQ_REQUEUE_AFTER tries sends the messages back to this queue
 * (acking only once they are there), so nothing expires unwritten.
 */
export async function consumeDeadSpendLogs(batch: MessageBatch<unknown>, env: DlqEnv, ctx: ExecutionContext): Promise<void> {
  const records = await recordsOfBatch(batch);
  if (records.all.length === 0) {
    batch.ackAll();
    return;
  }
  try {
    const { received, written } = await write(env, ctx, records);
    log.warn(`spend-log dead-letter batch written: ${written} of ${received} records new, ${received - written} already written`);
    batch.ackAll();
    return;
  } catch (err) {
    const attempts = attemptsOf(batch);
    const delaySeconds = Math.min(DLQ_MAX_DELAY_S, 15 * 2 ** (attempts - 1));
    const ids = records.all.slice(0, 3).map((r) => r.request_id).join(', ');
    log.error(`SPEND LOGS NOT WRITTEN YET: dead-letter batch of ${records.all.length} records (${ids}${records.all.length > 3 ? ', ...' : ''}) `
      + `failed on attempt ${attempts}; trying again in ${delaySeconds} s: ${causeOf(err)}`);
    if (attempts >= DLQ_REQUEUE_AFTER && env.SPEND_LOG_DLQ) {
      try {
        await requeue(env.SPEND_LOG_DLQ, batch.messages.map((m) => m.body), delaySeconds);
        log.error(`spend-log dead-letter batch of ${records.all.length} records put back on ${SPEND_LOG_DLQ} after ${attempts} attempts`);
        batch.ackAll();
        return;
      } catch (sendErr) {
        log.error(`spend-log dead-letter batch could not be put back on ${SPEND_LOG_DLQ}: ${causeOf(sendErr)}`);
      }
    }
    batch.retryAll({ delaySeconds });
  }
}

/**
 * Writes the records in statements of WRITE_CHUNK, yielding to requests
 * between them (a batch can hold a second of a busy gateway's records). Each
 * statement is idempotent on request_id, so a batch that fails part way and
 * is retried writes only what is missing.
 */
async function write(env: AdminEnv, ctx: ExecutionContext, batch: BatchRecords) {
  const database = openDatabase(env);
  // service_callback: ["prometheus_system"]: the writes are timed for /metrics; a config that does not load measures
  // nothing. The validated config alone (cached per isolate), not gatewayState: a consumer need not build the catalog.
  let measured = false;
  try {
    measured = serviceMetricsEnabled(runtimeConfig(env).config);
  } catch { /* an invalid config: not measured */ }
  if (measured) measurePostgres(database.pool);
  try {
    const total = { received: 0, written: 0 };
    for (const [list, keepRows] of [[batch.rows, true], [batch.noRows, false]] as const) {
      // The same request twice in one batch (a redelivery beside the original) is one row.
      const records = [...new Map(list.map((r) => [r.request_id, r])).values()];
      for (let i = 0; i < records.length; i += WRITE_CHUNK) {
        if (total.received > 0) await yieldToRequests();
        const done = await writeSpendLogs(database.db, records.slice(i, i + WRITE_CHUNK), { keepRows });
        total.received += done.received;
        total.written += done.written;
      }
    }
    return total;
  } finally {
    ctx.waitUntil(database.close());
    if (measured) scheduleFlush(env, ctx);
  }
}

/** A batch's records: those to keep as LiteLLM_SpendLogs rows, and those sent with `disable_spend_logs` (rows: false). */
interface BatchRecords {
  rows: SpendLogRecord[];
  noRows: SpendLogRecord[];
  all: SpendLogRecord[];
}

/** Every message's records, decoded one message at a time with a turn for requests between them. */
async function recordsOfBatch(batch: MessageBatch<unknown>): Promise<BatchRecords> {
  const out: BatchRecords = { rows: [], noRows: [], all: [] };
  await inSlices(batch.messages, 1, (m) => {
    const { records, rows } = recordsOf(m.body);
    (rows ? out.rows : out.noRows).push(...records);
    out.all.push(...records);
  });
  return out;
}

/** Sends message bodies as new messages, within a batch's limits (100 messages, 256 KB). */
async function requeue(queue: Queue<unknown>, bodies: unknown[], delaySeconds: number): Promise<void> {
  let chunk: unknown[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length) await queue.sendBatch(chunk.map((body) => ({ body, contentType: isBytes(body) ? 'bytes' as const : 'json' as const, delaySeconds })));
    chunk = [];
    bytes = 0;
  };
  for (const body of bodies) {
    const size = isBytes(body) ? body.byteLength : JSON.stringify(body).length;
    if (chunk.length === 100 || (chunk.length && bytes + size > 240 * 1024)) await flush();
    chunk.push(body);
    bytes += size;
  }
  await flush();
}

const isBytes = (body: unknown): body is ArrayBuffer | ArrayBufferView => body instanceof ArrayBuffer || ArrayBuffer.isView(body);

/**
 * A message holds a pack of records (SpendLogMessage), compressed as the
 * gateway sends it or plain; a lone record is accepted too. A body that does
 * not decode holds none (logged).
 */
function recordsOf(raw: unknown): { records: SpendLogRecord[]; rows: boolean } {
  let body: unknown;
  try {
    body = decodePack(raw);
  } catch (err) {
    log.error(`spend logs: dropping a message that does not decode: ${err instanceof Error ? err.message : String(err)}`);
    return { records: [], rows: true };
  }
  const isRecord = (v: unknown): v is SpendLogRecord => !!v && typeof v === 'object' && typeof (v as SpendLogRecord).request_id === 'string';
  if (body && typeof body === 'object' && Array.isArray((body as SpendLogMessage).records)) {
    return { records: (body as SpendLogMessage).records.filter(isRecord), rows: (body as SpendLogMessage).rows !== false };
  }
  return { records: isRecord(body) ? [body] : [], rows: true };
}

function attemptsOf(batch: MessageBatch<unknown>): number {
  return Math.max(1, ...batch.messages.map((m) => m.attempts));
}

function causeOf(err: unknown): string {
  if (err instanceof Error && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
