/**
 * LiteLLM's `callback_settings`: settings of one callback, read where LiteLLM's proxy reads them (the
 * config's top level, documented) or from `litellm_settings.callback_settings` (which its proxy also turns
 * into `litellm.callback_settings`, replacing the other). Resolved once, into the config's top-level field.
 */
import { isObject } from '../json.ts';
import { OTLP_VENDORS } from '../telemetry/otel/vendors.ts';
import { STANDARD_LOGGER_NAMES } from '../telemetry/standard/registry.ts';
import type { TollgateConfig } from './schema.ts';

/** Callbacks whose settings Tollgate reads: LiteLLM passes them to `otel`; Tollgate honours `langfuse`'s and the standard loggers' (under any of their names) too. */
const SETTLED_CALLBACKS = new Set(['otel', 'langfuse', 'langfuse_otel', 'arize_phoenix', 'arize', ...OTLP_VENDORS, ...STANDARD_LOGGER_NAMES]);

/** The config with `litellm_settings.callback_settings`, when given, as its callback settings. */
export function withCallbackSettings(config: TollgateConfig): TollgateConfig {
  const fromSettings = config.litellm_settings.callback_settings;
  return fromSettings ? { ...config, callback_settings: fromSettings } : config;
}

/** Whether a callback may carry the call's prompt and answer (`callback_settings.<name>.message_logging`, on unless false). */
export function callbackMessageLogging(config: Pick<TollgateConfig, 'callback_settings'>, callback: string): boolean {
  return config.callback_settings?.[callback]?.message_logging !== false;
}

/** Warnings about settings of callbacks Tollgate does not read, and about both places being used. */
export function callbackSettingsWarnings(raw: unknown): string[] {
  if (!isObject(raw)) return [];
  const out: string[] = [];
  const top = raw.callback_settings;
  const nested = isObject(raw.litellm_settings) ? raw.litellm_settings.callback_settings : undefined;
  if (isObject(top) && isObject(nested)) out.push('callback_settings: litellm_settings.callback_settings replaces it (as in LiteLLM); the top-level one is ignored');
  for (const [at, block] of [['callback_settings', top], ['litellm_settings.callback_settings', nested]] as const) {
    if (!isObject(block)) continue;
    for (const name of Object.keys(block)) {
      if (!SETTLED_CALLBACKS.has(name)) out.push(`${at}.${name}: settings of a callback Tollgate does not read (ignored; read: ${[...SETTLED_CALLBACKS].join(', ')})`);
    }
  }
  return out;
}
