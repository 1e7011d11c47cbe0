import OpenAI from 'openai';
import { openaiError } from '../fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

// The router suites' stack (test/router*.test.ts): five fake upstreams behind groups built for retries,
// fallbacks, timeouts, cooldowns, weights, context windows, wildcards and aliases.

export interface RouterStack {
  primary: FakeUpstream;
  secondary: FakeUpstream;
  tertiary: FakeUpstream;
  fast: FakeUpstream;
  slow: FakeUpstream;
  stack: TestStack;
  client: OpenAI;
}

export async function startRouterStack(): Promise<RouterStack> {
  const [primary, secondary, tertiary, fast, slow] = await Promise.all(Array.from({ length: 5 }, () => startFakeUpstream())) as [FakeUpstream, FakeUpstream, FakeUpstream, FakeUpstream, FakeUpstream];
  const oa = (name: string, upstream: FakeUpstream, extra = '') => `
  - model_name: ${name}
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-${name}${extra}}`;
  const stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o-uae-primary
    litellm_params: {model: azure/gpt-4o, api_base: "${primary.url}", api_key: azure-key, api_version: "2024-08-01-preview"}
    model_info: {id: uae-primary}
${oa('claude-sonnet-bedrock-me', secondary)}
${oa('claude-sonnet-fallback', tertiary)}
${oa('flaky', primary)}
    model_info: {id: flaky-primary}
${oa('flaky', secondary)}
    model_info: {id: flaky-secondary}
${oa('hangs', primary, ', timeout: 1')}
${oa('slow-start', primary, ', stream_timeout: 1')}
${oa('stall-start', primary, ', stream_timeout: 1')}
${oa('rescue', tertiary)}
${oa('overridable', primary, ', timeout: 1')}
    model_info: {id: overridable-primary}
  - model_name: weighted
    litellm_params: {model: mock/a, mock_response: "A", weight: 1}
    model_info: {id: weighted-a}
  - model_name: weighted
    litellm_params: {model: mock/b, mock_response: "B", weight: 3}
    model_info: {id: weighted-b}
${oa('small-context', primary)}
    model_info: {max_input_tokens: 8}
${oa('big-context', secondary)}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${tertiary.url}/v1", api_key: sk-wild}
router_settings:
  num_retries: 2
  retry_policy: {BadRequestErrorRetries: 0}
  allowed_fails: 3
  cooldown_time: 8
  fallbacks:
    - gpt-4o-uae-primary: [claude-sonnet-bedrock-me]
    - claude-sonnet-bedrock-me: [claude-sonnet-fallback]
    - hangs: [rescue]
    - overridable: [rescue]
    - slow-start: [rescue]
    - stall-start: [rescue]
  context_window_fallbacks:
    - small-context: [big-context]
  model_group_alias: {gpt-latest: claude-sonnet-fallback, gpt-internal: {model: claude-sonnet-fallback, hidden: true}}
`,
  });
  return { primary, secondary, tertiary, fast, slow, stack, client: new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 }) };
}

export async function stopRouterStack(r: RouterStack | undefined): Promise<void> {
  await r?.stack.stop();
  for (const f of [r?.primary, r?.secondary, r?.tertiary, r?.fast, r?.slow]) await f?.close();
}

/** Between tests: every fake answers echo again, the slow one 120 ms late. */
export function resetRouterFakes(r: RouterStack): void {
  for (const f of [r.primary, r.secondary, r.tertiary, r.fast, r.slow]) f.reset();
  r.slow.setDefault({ kind: 'echo', delayMs: 120 });
}

/** A chat call to `model` through the gateway, with its response. */
export const asker = (client: () => OpenAI) => (model: string, extra: Record<string, unknown> = {}) =>
  client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra } as never).withResponse();

/** An upstream failure in OpenAI's error shape. */
export const failure = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'error' as const, status, body: openaiError({ message: `upstream ${status}`, type: 'server_error' }), headers });
