/**
 * Which StandardLoggingPayload each standard logger of a call gets (payload.ts): its message settings
 * (`callback_settings.<name>.message_logging`), its content sizes, for a billing logger counts only and for
 * ClickHouse the client's `traceparent` (registry.ts), made once for the loggers that share them and fitted for
 * a queue message. Pure, so it is tested under node; the sink (sink.ts) queues what it makes.
 */
import type { TollgateConfig } from '../../config/schema.ts';
import { ITEM_BYTES } from '../langfuse/packing.ts';
import { traceContextOf } from '../otel/spans.ts';
import { itemBytes } from '../queue-packing.ts';
import { buildStandardPayload, type StandardCall, type StandardOptions } from './payload.ts';
import { contentCharsFor, type StandardLogger, standardLoggerMessageLogging } from './registry.ts';

/** A payload's JSON fitted for a queue message, and its size as the queue counts it. */
export interface FittedPayload { json: string; bytes: number }

/** One logger's payload, or undefined when even its smallest form does not fit in a queue message. */
export interface LoggerPayload { logger: StandardLogger; fitted: FittedPayload | undefined }

type BaseOptions = Omit<StandardOptions, 'contentChars' | 'callbackMessageLoggingOff' | 'countsOnly' | 'traceContext'>;
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
function fittedPayload(event: StandardCall, options: Omit<StandardOptions, 'contentChars'>, sizes: readonly number[]): FittedPayload | undefined {
  // The error's fields the payload reads, not whatever else the gateway's error object holds.
  const call = { ...event, error: event.error ? { message: event.error.message, type: event.error.type, status: event.error.status, provider: event.error.provider } : undefined };
  for (const contentChars of sizes) {
    const json = JSON.stringify(buildStandardPayload(call, { ...options, contentChars }));
    const bytes = itemBytes(json, ITEM_BYTES);
    if (bytes <= ITEM_BYTES) return { json, bytes };
  }
  return undefined;
}

/**
 * Each logger's payload of the call, in the loggers' order; loggers with the same message settings share one. A
 * logger that reads the trace context shares too unless the request has a valid `traceparent` (asked once a call).
 */
export function loggerPayloads(config: TollgateConfig, event: StandardCall, loggers: readonly StandardLogger[]): LoggerPayload[] {
  const base = optionsOf(config);
  const made = new Map<string, FittedPayload | undefined>();
  let traced: boolean | undefined;
  return loggers.map((logger) => {
    const off = !standardLoggerMessageLogging(config, logger);
    const sizes = contentCharsFor(logger, off);
    const countsOnly = logger.countsOnly === true;
    const traceContext = logger.traceContext === true && (traced ??= traceContextOf(event.headers.get('traceparent')) !== undefined);
    const shape = `${off}/${sizes.length}/${countsOnly}/${traceContext}`;
    if (!made.has(shape)) made.set(shape, fittedPayload(event, { ...base, callbackMessageLoggingOff: off, countsOnly, traceContext }, sizes));
    return { logger, fitted: made.get(shape) };
  });
}
