import { callbackMessageLogging } from '../../config/callback-settings.ts';
import { runtimeConfig } from '../../config/runtime.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import type { GatewayEnv } from '../../env.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { enqueueFitted } from '../langfuse/producer.ts';
import type { OtelDestination } from '../langfuse/types.ts';
import { OTEL_CALLBACKS, type OtelCallback, otelCallbacksOn } from './enabled.ts';
import { CONTENT_CHARS, fitSpan, INFERENCE_LIMITS } from './fit.ts';
import { inferenceSpanBuilder } from './openinference.ts';
import { langtraceSpanBuilder, traceloopSpanBuilder } from './openllmetry.ts';
import { buildSpan, type SpanContent, spanContent, type SpanOptions } from './spans.ts';
import { log } from '../log.ts';
import { callerHasLogging, loggerOwner } from '../standard/dynamic-settings.ts';

/**
 * Whether a call's answer text is kept for its spans: an OpenTelemetry-based callback (`otel`, `langfuse_otel`,
 * `arize_phoenix`, `arize`) on for successes or failures (even under `turn_off_message_logging`, which a
 * request's `litellm-disable-message-redaction` header overrides), unless that callback's
 * `callback_settings.<name>.message_logging` is false, which nothing overrides.
 */
export const otelWantsText = (config: TollgateConfig): boolean => optionsOf(config).wantsText;

type BaseOptions = Omit<SpanOptions, 'contentChars' | 'callbackMessageLoggingOff'>;

let cached: { config: TollgateConfig; base: BaseOptions; loggingOff: Record<OtelCallback, boolean>; wantsText: boolean } | undefined;

function optionsOf(config: TollgateConfig): NonNullable<typeof cached> {
  if (cached?.config === config) return cached;
  const loggingOff = {} as Record<OtelCallback, boolean>;
  for (const name of OTEL_CALLBACKS) loggingOff[name] = !callbackMessageLogging(config, name);
  const on = new Set([...otelCallbacksOn(config, false), ...otelCallbacksOn(config, true)]);
  cached = {
    config,
    base: {
      turnOffMessageLogging: config.litellm_settings.turn_off_message_logging === true,
      redactUserApiKeyInfo: config.litellm_settings.redact_user_api_key_info === true,
      redactMessagesInExceptions: config.general_settings.redact_messages_in_exceptions === true || config.litellm_settings.redact_messages_in_exceptions === true,
    },
    loggingOff,
    wantsText: [...on].some((name) => !loggingOff[name]),
  };
  return cached;
}

/**
 * LiteLLM's OpenTelemetry-based callbacks: each call as one span per callback on (`otel`: GenAI attributes to
 * the OTLP collector, and to Logfire's or Levo's; `langfuse_otel`, `arize_phoenix`, `arize`, `weave_otel`: OpenInference
 * attributes to Langfuse's, Phoenix's, Arize's or Weave's OTel endpoint; `traceloop`, `langtrace`: their own attributes, openllmetry.ts), queued as text once the call is over, one Queue destination each, and posted by the
 * admin Worker's callback consumer (admin-worker/queues/callbacks/otlp.ts), which alone holds the vendors'
 * credentials, so a slow or absent collector never touches a request and one collector's outage never re-sends
 * another's spans.
 */
export function otelSink(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const { config } = runtimeConfig(env);
  let callbacks = otelCallbacksOn(config, !!event.error);
  // A key's or team's own `arize` settings (two property reads for a caller holding none).
  const arize = callerHasLogging(event.caller) ? loggerOwner('arize', event.caller, !!event.error) : undefined;
  if (arize?.on && !callbacks.includes('arize')) callbacks = [...callbacks, 'arize'];
  if (callbacks.length === 0) return;
  const { base, loggingOff } = optionsOf(config);
  let content: SpanContent | undefined;
  for (const name of callbacks) {
    const options = { ...base, callbackMessageLoggingOff: loggingOff[name] };
    if (name === 'otel' || name === 'logfire' || name === 'levo') {
      // LiteLLM's plain OpenTelemetry span. Nothing of the prompt or answer is made when the span may not carry them
      // (made once for the callbacks that may).
      const made = options.callbackMessageLoggingOff ? {} : (content ??= spanContent(event));
      enqueueSpan(env, ctx, event, name === 'otel' ? { source: 'otel' } : { source: 'otel', exporter: name }, CONTENT_CHARS, (contentChars) => buildSpan(event, { ...options, contentChars }, made));
    } else if (name === 'traceloop' || name === 'langtrace') {
      // The prompt lowered to nothing before the answer, as the OpenInference spans'.
      const build = (name === 'traceloop' ? traceloopSpanBuilder : langtraceSpanBuilder)(event, options);
      enqueueSpan(env, ctx, event, { source: 'otel', exporter: name }, INFERENCE_LIMITS, build);
    } else {
      const environment = name === 'langfuse_otel' && typeof env.LANGFUSE_TRACING_ENVIRONMENT === 'string' ? env.LANGFUSE_TRACING_ENVIRONMENT : undefined;
      const build = inferenceSpanBuilder(event, name, { ...options, ...(environment ? { langfuseEnvironment: environment.slice(0, 200) } : {}) });
      // Settings of the caller's own send its arize spans with their credentials instead of the environment's.
      const owner = name === 'arize' ? arize?.owner : undefined;
      enqueueSpan(env, ctx, event, { source: 'otel', exporter: name, ...owner }, INFERENCE_LIMITS, build);
    }
  }
}

/** Queues the span `build` makes at the first of `limits` (less and less prompt and answer) at which it fits in a message (fit.ts). */
function enqueueSpan<L>(env: GatewayEnv, ctx: WaitUntil, event: CallEvent, destination: OtelDestination, limits: readonly L[], build: (limit: L) => string): void {
  const fitted = fitSpan(limits, build);
  if (fitted) {
    enqueueFitted(env, ctx, { callId: event.record.request_id, destination, events: 1, json: fitted.json, bytes: fitted.bytes });
    return;
  }
  log.error(`OpenTelemetry span (${destination.exporter ?? 'otel'}) of call ${event.record.request_id} does not fit in a queue message; not sent`);
}

addCallSink(otelSink);
