import { runtimeConfig } from '../config/runtime.ts';
import type { GatewayEnv } from '../env.ts';
import { gatewayState } from '../state.ts';
import { shipPacks } from './queue-packing.ts';
import { log } from './log.ts';
import type { SpendLogRecord } from './spend-log-record.ts';

export type { SpendLogRecord };

/**
 * How long an isolate gathers records before shipping them (Langfuse
 * events: CALLBACK_FLUSH_MS, later). Measured with `npm run bench`: a send per
 * request costs more than the rest of the request, and each message costs
 * the Queue and its consumer about the same whatever it holds (100 ms
 * rather than 20 ms cut the gateway's CPU a request by 5% at c=50; 400 ms
 * rather than 100 ms, with Langfuse's window, 3-10% more). On Cloudflare
 * `waitUntil` outlives the response by far more. In-region, workerd's
 * graceful stop does not wait for a timer in `waitUntil`: stop sending
 * traffic before SIGTERM (the Helm chart's preStop does), or records of the
 * last 400 ms before the signal are lost.
 */
export const SPEND_LOG_FLUSH_MS = 400;

/** One Queue message: the records an isolate gathered, so the Queue moves tens of records per message, not one. */
export interface SpendLogMessage {
  records: SpendLogRecord[];
  /**
   * false with `general_settings.disable_spend_logs`: the consumer adds the spend to keys, teams, ...
   * and the daily rollups, but keeps no LiteLLM_SpendLogs row.
   */
  rows?: boolean;
}

let buffered: { id: string; json: string }[] = [];
let flushScheduled = false;

/**
 * `litellm_settings.disable_end_user_cost_tracking`: the end user is in no spend-log row, daily rollup or
 * customer spend (its budget still holds). Never throws: the record goes whatever the config.
 */
function endUsersUntracked(env: GatewayEnv): boolean {
  try {
    return runtimeConfig(env).config.litellm_settings.disable_end_user_cost_tracking === true;
  } catch {
    return false;
  }
}

/**
 * `general_settings.disable_error_logs`: LiteLLM then skips its failure hook's write (`_ProxyDBLogger
 * ._should_track_errors_in_db`), the spend-log row of a failed call, which it always writes with no cost.
 * A failed record that carries spend or tokens (a stream broken after the provider billed it) is still
 * sent: what a call cost is never dropped. Never throws: a config that cannot load keeps the record.
 */
function errorLogDropped(env: GatewayEnv, record: SpendLogRecord): boolean {
  if (record.status !== 'failure' || record.spend > 0 || record.total_tokens > 0) return false;
  try {
    return runtimeConfig(env).config.general_settings.disable_error_logs === true;
  } catch {
    return false;
  }
}

/**
 * `general_settings.disable_spend_updates`: LiteLLM's spend writer (`DBSpendUpdateWriter.update_database`)
 * then returns before anything, so a call writes no spend-log row and no daily rollup, and adds nothing to a
 * key's, user's, team's, organization's, end user's or tag's spend. Decided when the call ends, so records of
 * calls made while writes were on (retried, or in the dead-letter queue) are still written. Limiters, Langfuse,
 * OpenTelemetry and metrics are unaffected.
 */
function spendUpdatesDisabled(env: GatewayEnv): boolean {
  try {
    return runtimeConfig(env).config.general_settings.disable_spend_updates === true;
  } catch {
    return false;
  }
}

/**
 * Queues the record for the admin Worker, which writes it to Postgres.
 * Records are gathered per isolate for SPEND_LOG_FLUSH_MS and shipped packed
 * into as few messages as fit (queue-packing.ts): a Queue send per request
 * would cost more than the rest of the request. The request that opens a
 * window keeps it alive (`ctx.waitUntil`) until its records are sent; later
 * requests in the window only add to it.
 */
export function recordSpend(env: GatewayEnv, ctx: { waitUntil(p: Promise<unknown>): void }, record: SpendLogRecord): void {
  if (errorLogDropped(env, record) || spendUpdatesDisabled(env)) return;
  const untracked = record.end_user !== null && endUsersUntracked(env);
  // Serialised once, here: the message is these texts joined.
  buffered.push({ id: record.request_id, json: JSON.stringify(untracked ? { ...record, end_user: null } : record) });
  if (flushScheduled) return;
  flushScheduled = true;
  ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, SPEND_LOG_FLUSH_MS)).then(() => flushSpendLogs(env)));
}

/** Ships everything buffered. Never throws: a failure is logged with the request ids it concerns. */
export async function flushSpendLogs(env: GatewayEnv): Promise<void> {
  const pending = buffered;
  buffered = [];
  flushScheduled = false;
  if (pending.length === 0) return;
  const queue = env.SPEND_LOG_QUEUE;
  if (!queue) {
    log.warn(`no SPEND_LOG_QUEUE binding: ${pending.length} spend logs not recorded`);
    return;
  }
  // A config that cannot load keeps the rows: a record is never dropped for it.
  const rows = await gatewayState(env).then((state) => state.config.general_settings.disable_spend_logs !== true, () => true);
  // The SpendLogMessage `{records}`, from the records' own JSON.
  await shipPacks(queue, pending, (joined) => (rows ? `{"records":[${joined}]}` : `{"rows":false,"records":[${joined}]}`), { noun: 'spend log', idOf: (e) => e.id });
}
