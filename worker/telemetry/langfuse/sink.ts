import { callbackMessageLogging } from '../../config/callback-settings.ts';
import { runtimeConfig } from '../../config/runtime.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import type { GatewayEnv } from '../../env.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { buildLangfuseEvents, type LangfuseOptions } from './events.ts';
import { langfuseDestination } from './logging-settings.ts';
import { enqueueCallback } from './producer.ts';

let cached: { config: TollgateConfig; options: LangfuseOptions } | undefined;

function optionsOf(config: TollgateConfig, env: GatewayEnv): LangfuseOptions {
  if (cached?.config === config) return cached.options;
  const settings = config.litellm_settings;
  const options: LangfuseOptions = {
    turnOffMessageLogging: settings.turn_off_message_logging === true,
    callbackMessageLoggingOff: !callbackMessageLogging(config, 'langfuse'),
    redactUserApiKeyInfo: settings.redact_user_api_key_info === true,
    redactMessagesInExceptions: config.general_settings.redact_messages_in_exceptions === true || config.litellm_settings.redact_messages_in_exceptions === true,
    defaultTags: settings.langfuse_default_tags ?? [],
    ...(typeof env.PROXY_BASE_URL === 'string' && env.PROXY_BASE_URL ? { proxyBaseUrl: env.PROXY_BASE_URL } : {}),
  };
  cached = { config, options };
  return options;
}

/**
 * The Langfuse callback (`success_callback` / `failure_callback` /
 * `callbacks: ["langfuse"]`, or a key's or team's `metadata.logging`): builds
 * the call's trace and generation and queues them as text, once the call is
 * over. Langfuse itself is only ever reached by the admin
 * Worker's consumer, so its being slow or down never touches a request.
 */
export function langfuseSink(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const { config } = runtimeConfig(env);
  const destination = langfuseDestination(config, event.caller, !!event.error);
  if (!destination) return;
  const options = optionsOf(config, env);
  enqueueCallback(env, ctx, { callback: 'langfuse', callId: event.record.request_id, destination, events: buildLangfuseEvents(event, options) });
}

addCallSink(langfuseSink);
