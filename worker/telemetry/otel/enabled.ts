import type { Caller } from '../../auth/authenticate.ts';
import type { TollgateConfig } from '../../config/schema.ts';
import { teamListsCallback } from '../team-callbacks.ts';

/** Whether config.yaml turns the `otel` callback on for successes (or failures): `callbacks`, `success_callback`, `failure_callback`. */
export function otelConfigured(config: TollgateConfig, failed: boolean): boolean {
  const s = config.litellm_settings;
  return !!s.callbacks?.includes('otel') || !!(failed ? s.failure_callback : s.success_callback)?.includes('otel');
}

/**
 * Whether this caller's call becomes a span: the config's `otel` callback, unless the caller's team lists
 * its callbacks for the event without `otel` (teamListsCallback). A team cannot turn spans on that the
 * config leaves off: the collector is the deployment's, and the answer text is kept only when the config
 * asks (otelWantsText).
 */
export function otelOn(config: TollgateConfig, caller: Caller, failed: boolean): boolean {
  return otelConfigured(config, failed) && teamListsCallback(caller, failed, 'otel') !== false;
}
