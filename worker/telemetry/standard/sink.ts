import { runtimeConfig } from '../../config/runtime.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import type { GatewayEnv } from '../../env.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { ITEM_BYTES } from '../langfuse/packing.ts';
import { enqueueFitted } from '../langfuse/producer.ts';
import { itemBytes } from '../queue-packing.ts';
import { buildStandardPayload, type StandardOptions } from './payload.ts';
import { callerHasLogging, DYNAMIC_LOGGER_NAMES, loggerOwner, type LoggerOwner } from './dynamic-settings.ts';
import { contentCharsFor, STANDARD_LOGGERS, type StandardLogger, standardLoggerMessageLogging, standardLoggersOn } from './registry.ts';
import type { LoggerDestination } from '../langfuse/types.ts';
import { log } from '../log.ts';

type BaseOptions = Omit<StandardOptions, 'contentChars' | 'callbackMessageLoggingOff'>;
let cached: { config: TollgateConfig; options: BaseOptions } | undefined;

function optionsOf(config: TollgateConfig): BaseOptions {
  if (cached?.config === config) return cached.options;
  const options = {
    turnOffMessageLogging: config.litellm_settings.turn_off_message_logging === true,
    redactUserApiKeyInfo: config.litellm_settings.redact_user_api_key_info === true,
    redactMessagesInExceptions: config.general_settings.redact_messages_in_exceptions === true || config.litellm_settings.redact_messages_in_exceptions === true,
  };
  cached = { config, options };
  return options;
}

/** The payload's JSON fitted for a queue message (content cut tighter each round), or undefined when even that does not fit. */
function fittedPayload(event: CallEvent, options: Omit<StandardOptions, 'contentChars'>, sizes: readonly number[]): { json: string; bytes: number } | undefined {
  const call = { ...event, error: event.error ? { message: event.error.message, type: event.error.type, status: event.error.status, provider: event.error.provider } : undefined };
  for (const contentChars of sizes) {
    const json = JSON.stringify(buildStandardPayload(call, { ...options, contentChars }));
    const bytes = itemBytes(json, ITEM_BYTES);
    if (bytes <= ITEM_BYTES) return { json, bytes };
  }
  return undefined;
}

/**
 * LiteLLM's generic loggers (registry.ts: `generic_api`, `datadog`, ...):
 * the call's StandardLoggingPayload, made once the call is over and queued
 * per logger (`destination: {source: 'logger', name}`) for the admin Worker's
 * callback consumer, which posts it with the logger's own poster
 * (admin-worker/queues/callbacks/loggers.ts). Loggers with the same message
 * settings share one serialisation.
 */
export function standardLoggersSink(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const { config } = runtimeConfig(env);
  const failed = !!event.error;
  const configured = standardLoggersOn(config, failed);
  // A key's or team's own logging settings (dynamic-settings.ts): read only when the caller holds some.
  const owned = callerHasLogging(event.caller) ? ownedLoggers(event, configured, failed) : undefined;
  const loggers = owned?.loggers ?? configured;
  if (loggers.length === 0) return;
  const base = optionsOf(config);
  const made = new Map<string, { json: string; bytes: number } | undefined>();
  for (const logger of loggers) {
    const off = !standardLoggerMessageLogging(config, logger);
    const sizes = contentCharsFor(logger, off);
    const shape = `${off}/${sizes.length}`;
    if (!made.has(shape)) made.set(shape, fittedPayload(event, { ...base, callbackMessageLoggingOff: off }, sizes));
    const fitted = made.get(shape);
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
 * The config's loggers plus those a key's or team's settings turn on (langsmith, gcs_bucket), and for each the
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
