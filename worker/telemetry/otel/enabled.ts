import type { TollgateConfig } from '../../config/schema.ts';

/**
 * Whether config.yaml turns the `otel` callback on for successes (or failures): `callbacks`, `success_callback`,
 * `failure_callback`. The config's alone, for every caller: the collector is the deployment's, so no key's or
 * team's settings turn spans on or off (LiteLLM runs the config's callbacks for every call). Apart from the
 * sink so it can be read without the runtime config.
 */
export function otelOn(config: TollgateConfig, failed: boolean): boolean {
  const s = config.litellm_settings;
  return !!s.callbacks?.includes('otel') || !!(failed ? s.failure_callback : s.success_callback)?.includes('otel');
}
