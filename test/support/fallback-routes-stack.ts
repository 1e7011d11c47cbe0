import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { adminClient } from './admin.ts';
import { asker } from './router-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

/**
 * What the fallback and router settings suites share (fallback-routes.test.ts, router-settings-routes.test.ts): a
 * stack with store_model_in_db on whose group-a calls a failing upstream and the other groups a healthy one, groups
 * named with / and % and like a secret, a DB model's group and a blocked one, and router_settings in config.yaml
 * carrying fallbacks, unusable context-window entries and secrets (redis_password, a routing argument).
 */

export const REDIS_SECRET = 'redis-secret-0123456789';
export const ARGS_SECRET = 'args-secret-9876543210';

const config = (failing: FakeUpstream, healthy: FakeUpstream) => `
model_list:
  - model_name: group-a
    litellm_params: {model: openai/gpt-4o, api_base: "${failing.url}/v1", api_key: sk-group-a}
  - model_name: group-b
    litellm_params: {model: openai/gpt-4o, api_base: "${healthy.url}/v1", api_key: sk-group-b}
  - model_name: group-c
    litellm_params: {model: openai/gpt-4o, api_base: "${healthy.url}/v1", api_key: sk-group-c}
  - model_name: openai/gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${healthy.url}/v1", api_key: sk-slash}
  - model_name: "50%-off"
    litellm_params: {model: openai/gpt-4o, api_base: "${healthy.url}/v1", api_key: sk-percent}
  - model_name: azure-key
    litellm_params: {model: openai/gpt-4o, api_base: "${healthy.url}/v1", api_key: sk-azure-key}
router_settings:
  num_retries: 0
  disable_cooldowns: true
  routing_strategy: least-busy
  routing_strategy_args: {lowest_latency_buffer: 0.2, redis_url: os.environ/ROUTING_ARGS_SECRET}
  fallbacks: [{group-c: [group-b]}]
  # Entries the router cannot use (config.yaml warns of them): they block no write of another group's fallbacks.
  context_window_fallbacks: [{}, {group-b: []}]
  redis_password: ${REDIS_SECRET}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
`;

/**
 * Starts the suite's stack and fake upstreams (registered as the calling test file's beforeAll/afterAll) and returns
 * the calls on it.
 */
export function useFallbackRoutesStack() {
  let failing: FakeUpstream;
  let healthy: FakeUpstream;
  let stack: TestStack;
  let client: OpenAI;
  const admin = adminClient(() => stack);
  beforeAll(async () => {
    [failing, healthy] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
    stack = await startTestStack({ configYaml: config(failing, healthy), env: { ROUTING_ARGS_SECRET: ARGS_SECRET } });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    await admin.ok('/model/new', { model_name: 'db-group', litellm_params: { model: 'openai/gpt-4o', api_base: `${healthy.url}/v1`, api_key: 'sk-db' } });
    await admin.rows(`INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, blocked) VALUES ('blocked-1', 'blocked-group', '{"model": "openai/gpt-4o"}', true)`);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
    await failing?.close();
    await healthy?.close();
  });

  /** The LiteLLM_Config router_settings row's param_value, undefined when there is none. */
  const row = async () => (await admin.rows(`SELECT param_value FROM "LiteLLM_Config" WHERE param_name = 'router_settings'`))[0]?.param_value;
  /** The upstream behind group-a (failing) and the one behind the other groups (healthy). */
  const upstreams = () => ({ failing, healthy });
  return { admin, ask: asker(() => client), row, upstreams };
}
