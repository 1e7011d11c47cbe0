import { callbackMessageLogging } from '../../config/callback-settings.ts';
import { runtimeConfig } from '../../config/runtime.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import type { GatewayEnv } from '../../env.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { ITEM_BYTES } from '../langfuse/packing.ts';
import { enqueueFitted } from '../langfuse/producer.ts';
import { utf8Bound } from '../queue-packing.ts';
import { otelOn } from './enabled.ts';
import { buildSpan, spanContent, type SpanOptions } from './spans.ts';
import { log } from '../log.ts';

/** Characters of a call's prompt and answer a span keeps (each), then fewer while the span would not fit in a message. */
const CONTENT_CHARS = [16 * 1024, 2 * 1024, 0];

/**
 * Whether a call's answer text is kept for its span: the `otel` callback on for successes or failures (even
 * under `turn_off_message_logging`, which a request's `litellm-disable-message-redaction` header overrides),
 * unless `callback_settings.otel.message_logging` is false, which nothing overrides.
 */
export const otelWantsText = (config: TollgateConfig): boolean =>
  (otelOn(config, false) || otelOn(config, true)) && config.callback_settings?.otel?.message_logging !== false;

let cached: { config: TollgateConfig; options: Omit<SpanOptions, 'contentChars'> } | undefined;

function optionsOf(config: TollgateConfig): Omit<SpanOptions, 'contentChars'> {
  if (cached?.config === config) return cached.options;
  const options = {
    turnOffMessageLogging: config.litellm_settings.turn_off_message_logging === true,
    callbackMessageLoggingOff: !callbackMessageLogging(config, 'otel'),
    redactUserApiKeyInfo: config.litellm_settings.redact_user_api_key_info === true,
    redactMessagesInExceptions: config.general_settings.redact_messages_in_exceptions === true || config.litellm_settings.redact_messages_in_exceptions === true,
  };
  cached = { config, options };
  return options;
}

/**
 * LiteLLM's `otel` callback: each call as one OpenTelemetry span, queued as
 * text once the call is over and posted to the OTLP collector by the admin
 * Worker's callback consumer (admin-worker/queues/callbacks/otlp.ts), so a
 * slow or absent collector never touches a request.
 */
export function otelSink(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const { config } = runtimeConfig(env);
  if (!otelOn(config, !!event.error)) return;
  const options = optionsOf(config);
  // Nothing of the prompt or answer is made when the span may not carry them.
  const content = options.callbackMessageLoggingOff ? {} : spanContent(event);
  for (const contentChars of CONTENT_CHARS) {
    const json = buildSpan(event, { ...options, contentChars }, content);
    const bytes = json.length * 3 <= ITEM_BYTES ? json.length * 3 : utf8Bound(json);
    if (bytes <= ITEM_BYTES) {
      enqueueFitted(env, ctx, { callId: event.record.request_id, destination: { source: 'otel' }, events: 1, json, bytes });
      return;
    }
  }
  log.error(`OpenTelemetry span of call ${event.record.request_id} does not fit in a queue message; not sent`);
}

addCallSink(otelSink);
