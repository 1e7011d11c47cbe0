import type { GatewayEnv } from '../env.ts';
import type { CallEvent } from './call-event.ts';
import { recordSpend } from './spend-log.ts';
import { log } from './log.ts';

export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** Extra sinks (callbacks, metrics, alerts) register here at module load; each must return fast and never throw. */
const sinks: ((env: GatewayEnv, ctx: WaitUntil, event: CallEvent) => void)[] = [];

export function addCallSink(sink: (env: GatewayEnv, ctx: WaitUntil, event: CallEvent) => void): void {
  sinks.push(sink);
}

/**
 * Hands a finished call to every telemetry sink: its spend-log record first
 * (never lost), then callbacks and metrics. Runs after the response, from
 * `waitUntil`; a failing sink is logged and does not affect the others.
 */
export function emitCall(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  recordSpend(env, ctx, event.record);
  for (const sink of sinks) {
    try {
      sink(env, ctx, event);
    } catch (err) {
      log.error('telemetry sink failed:', err instanceof Error ? err.message : String(err));
    }
  }
}
