import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { attributesOf, type FakeCollector, startFakeCollector } from '../fakes/otel-collector.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { callbackModels } from './callback-config.ts';
import { eventually } from './keys.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * What the OpenTelemetry vendor suites (langfuse_otel, arize_phoenix, arize beside otel) share: a fake provider on
 * loopback, one fake OTLP/HTTP collector a vendor, and workerd on the callback suites' config.yaml head.
 */

/** Where Langfuse takes OTLP exports, for a collector standing in for it. */
export const LANGFUSE_OTEL_PATH = '/api/public/otel/v1/traces';
/** The provider key the stack reads from FAKE_OPENAI_KEY, unless the suite sets its own. */
export const VENDORS_UPSTREAM_KEY = 'sk-upstream-openai-vendors-0001';

export interface OtelVendorsStack<N extends string> { upstream: FakeUpstream; collectors: Record<N, FakeCollector>; stack: TestStack }

export interface OtelVendorsStackOptions<N extends string> {
  /** The collectors to start, by name, each with its export path (`/v1/traces` by default) and the headers it accepts. */
  collectors: Record<N, Parameters<typeof startFakeCollector>[0]>;
  /** The config.yaml after callbackModels' head (`litellm_settings` and the rest). */
  settings: string;
  /** The vendors' environment, pointing them at the collectors. */
  env: (collectors: Record<N, FakeCollector>) => Record<string, string>;
}

/**
 * Registers the calling suite's (or describe block's) stack, beforeAll/afterAll, and checks after each test that
 * no collector got a malformed export, so each suite does not repeat it; `started` gets the parts once they are up.
 */
export function useOtelVendorsStack<N extends string>(options: OtelVendorsStackOptions<N>, started: (s: OtelVendorsStack<N>) => void): void {
  const names = Object.keys(options.collectors) as N[];
  const live: Partial<OtelVendorsStack<N>> = {};
  const collectors = {} as Record<N, FakeCollector>;
  beforeAll(async () => {
    live.upstream = await startFakeUpstream();
    for (const name of names) collectors[name] = await startFakeCollector(options.collectors[name]);
    live.collectors = collectors;
    live.stack = await startTestStack({
      configYaml: `${callbackModels(live.upstream.url)}${options.settings}`,
      env: { FAKE_OPENAI_KEY: VENDORS_UPSTREAM_KEY, ...options.env(collectors) },
    });
    started(live as OtelVendorsStack<N>);
  });
  afterAll(async () => {
    await live.stack?.stop();
    await Promise.all(names.map((name) => collectors[name]?.close()));
    await live.upstream?.close();
  });
  afterEach(() => {
    for (const name of names) expect(collectors[name].malformed, name).toEqual([]);
  });
}

/** The spans a collector got for one call, by the attribute holding the call id (`llm.response.id` for the vendors). */
export const byCall = (c: FakeCollector, callId: string, key = 'llm.response.id') => c.spans().filter((s) => attributesOf(s)[key] === callId);
/** The first span a collector got for one call, once it has come. */
export const spanAt = (c: FakeCollector, callId: string, key = 'llm.response.id') => eventually(async () => byCall(c, callId, key)[0]);
