import { runtimeConfig } from '../../config/runtime.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import type { GatewayEnv } from '../../env.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { ITEM_BYTES } from '../langfuse/packing.ts';
import { enqueueFitted } from '../langfuse/producer.ts';
import { itemBytes } from '../queue-packing.ts';
import { buildStandardPayload, type StandardOptions } from './payload.ts';
import { standardLoggerMessageLogging, standardLoggersOn } from './registry.ts';
import { log } from '../log.ts';

/** Characters of the prompt, the answer and the client's metadata a payload keeps (each), then fewer while it would not fit a message. */
const CONTENT_CHARS = [16 * 1024, 2 * 1024, 0];

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
function fittedPayload(event: CallEvent, options: Omit<StandardOptions, 'contentChars'>): { json: string; bytes: number } | undefined {
  const call = { ...event, error: event.error ? { message: event.error.message, type: event.error.type, status: event.error.status, provider: event.error.provider } : undefined };
  for (const contentChars of options.callbackMessageLoggingOff ? [0] : CONTENT_CHARS) {
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
  const loggers = standardLoggersOn(config, !!event.error);
  if (loggers.length === 0) return;
  const base = optionsOf(config);
  const made = new Map<boolean, { json: string; bytes: number } | undefined>();
  for (const logger of loggers) {
    const off = !standardLoggerMessageLogging(config, logger);
    if (!made.has(off)) made.set(off, fittedPayload(event, { ...base, callbackMessageLoggingOff: off }));
    const fitted = made.get(off);
    if (!fitted) {
      log.error(`${logger.name} payload of call ${event.record.request_id} does not fit in a queue message; not sent`);
      continue;
    }
    enqueueFitted(env, ctx, { callId: event.record.request_id, destination: { source: 'logger', name: logger.name }, events: 1, ...fitted });
  }
}

addCallSink(standardLoggersSink);
