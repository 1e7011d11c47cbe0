import type { TollgateConfig } from '../../config/schema.ts';
import { OTLP_VENDORS } from './vendors.ts';

/**
 * LiteLLM's OpenTelemetry-based callbacks Tollgate serves, each its own callback name with its own
 * collector and attribute set: `otel` (any OTLP collector, GenAI conventions), `langfuse_otel` (Langfuse's
 * OTel endpoint), `arize_phoenix` and `arize` (OpenInference conventions), and the OTLP exporters with a vendor's
 * endpoint (`logfire`, `traceloop`, `langtrace`, `levo`: vendors.ts).
 */
export const OTEL_CALLBACKS = ['otel', 'langfuse_otel', 'arize_phoenix', 'arize', ...OTLP_VENDORS] as const;
export type OtelCallback = (typeof OTEL_CALLBACKS)[number];

/** Whether config.yaml turns one of them on for successes (or failures): `callbacks`, `success_callback`, `failure_callback`. */
export function otelCallbackOn(config: TollgateConfig, name: OtelCallback, failed: boolean): boolean {
  const s = config.litellm_settings;
  return !!s.callbacks?.includes(name) || !!(failed ? s.failure_callback : s.success_callback)?.includes(name);
}

/**
 * Whether config.yaml turns the `otel` callback on for successes (or failures): `callbacks`, `success_callback`,
 * `failure_callback`. The config's alone, for every caller: the collector is the deployment's, so no key's or
 * team's settings turn spans on or off (LiteLLM runs the config's callbacks for every call). Apart from the
 * sink so it can be read without the runtime config.
 */
export function otelOn(config: TollgateConfig, failed: boolean): boolean {
  return otelCallbackOn(config, 'otel', failed);
}

let cached: { config: TollgateConfig; success: readonly OtelCallback[]; failure: readonly OtelCallback[] } | undefined;

/** The OpenTelemetry-based callbacks on for a call that succeeded (or failed), worked out once per config: a property read per call. */
export function otelCallbacksOn(config: TollgateConfig, failed: boolean): readonly OtelCallback[] {
  if (cached?.config !== config) {
    cached = {
      config,
      success: OTEL_CALLBACKS.filter((name) => otelCallbackOn(config, name, false)),
      failure: OTEL_CALLBACKS.filter((name) => otelCallbackOn(config, name, true)),
    };
  }
  return failed ? cached.failure : cached.success;
}
