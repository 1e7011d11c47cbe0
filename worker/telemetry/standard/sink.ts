import { runtimeConfig } from '../../config/runtime.ts';
import type { GatewayEnv } from '../../env.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { enqueueFitted } from '../langfuse/producer.ts';
import { callerHasLogging, DYNAMIC_LOGGER_NAMES, loggerOwner, type LoggerOwner } from './dynamic-settings.ts';
import { loggerPayloads } from './logger-payloads.ts';
import { STANDARD_LOGGERS, type StandardLogger, standardLoggersOn } from './registry.ts';
import type { LoggerDestination } from '../langfuse/types.ts';
import { log } from '../log.ts';

/**
 * LiteLLM's generic loggers (registry.ts: `generic_api`, `datadog`, ...):
 * the call's StandardLoggingPayload, made once the call is over and queued
 * per logger (`destination: {source: 'logger', name}`) for the admin Worker's
 * callback consumer, which posts it with the logger's own poster
 * (admin-worker/queues/callbacks/loggers.ts). Which payload each logger gets,
 * shared by loggers with the same message settings, is logger-payloads.ts's.
 */
export function standardLoggersSink(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const { config } = runtimeConfig(env);
  const failed = !!event.error;
  const configured = standardLoggersOn(config, failed);
  // A key's or team's own logging settings (dynamic-settings.ts): read only when the caller holds some.
  const owned = callerHasLogging(event.caller) ? ownedLoggers(event, configured, failed) : undefined;
  const loggers = owned?.loggers ?? configured;
  if (loggers.length === 0) return;
  for (const { logger, fitted } of loggerPayloads(config, event, loggers)) {
    if (!fitted) {
      log.error(`${logger.name} payload of call ${event.record.request_id} does not fit in a queue message; not sent`);
      continue;
    }
    const owner = owned?.owners.get(logger.name);
    const destination: LoggerDestination = { source: 'logger', name: logger.name, ...owner };
    enqueueFitted(env, ctx, { callId: event.record.request_id, destination, events: 1, ...fitted });
  }
}

/**
 * The config's loggers plus those a key's or team's settings turn on (langsmith, gcs_bucket, posthog), and for each the
 * owner whose variables send the call to a destination of its own instead of the config's.
 */
function ownedLoggers(event: CallEvent, configured: readonly StandardLogger[], failed: boolean): { loggers: StandardLogger[]; owners: Map<string, LoggerOwner> } {
  const loggers = [...configured];
  const owners = new Map<string, LoggerOwner>();
  for (const name of DYNAMIC_LOGGER_NAMES) {
    const { on, owner } = loggerOwner(name, event.caller, failed);
    const logger = STANDARD_LOGGERS.find((l) => l.name === name);
    if (!logger) continue;
    const listed = loggers.includes(logger);
    if (on && !listed) loggers.push(logger);
    if (owner && (on || listed)) owners.set(name, owner);
  }
  return { loggers, owners };
}

addCallSink(standardLoggersSink);
