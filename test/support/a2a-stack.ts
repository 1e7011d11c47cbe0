// The A2A suites' stack (test/a2a-agents-*.test.ts): two fake A2A agents on loopback, each with its own bearer
// token, and the gateway with a config.yaml agent; helpers to call the gateway and add agents.
import { afterAll, beforeAll, expect } from 'vitest';
import { type FakeA2aAgent, startFakeA2aAgent } from '../fakes/a2a-agent.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export const AGENT_SECRET = 'agent-own-secret-0123456789';
export let stack: TestStack;
export let helper: FakeA2aAgent;
export let other: FakeA2aAgent;

/** Starts the suite's stack (registered as the calling test file's beforeAll/afterAll). */
export function useA2aStack(): void {
beforeAll(async () => {
  [helper, other] = await Promise.all([startFakeA2aAgent({ name: 'helper', bearer: AGENT_SECRET }), startFakeA2aAgent({ name: 'other', bearer: 'other-secret-0001' })]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt}
litellm_settings:
  request_timeout: 2   # short: a stream longer than this must still pass (the deadline is until its first chunk)
agent_list:
  - agent_name: from-config
    agent_card_params: {name: Config agent, url: "${helper.url}", capabilities: {streaming: true}}
    litellm_params: {api_key: os.environ/HELPER_AGENT_KEY, cost_per_query: 0.01}
`,
    env: { LITELLM_SALT_KEY: 'a2a-test-salt-0123456789', HELPER_AGENT_KEY: AGENT_SECRET },
  });
});
afterAll(async () => {
  await Promise.all([stack?.stop(), helper?.close(), other?.close()]);
});
}

export async function call(method: string, path: string, body?: unknown, key = TEST_MASTER_KEY) {
  const res = await fetch(`${stack.url}${path}`, {
    method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined) as any };
}

export async function generateKey(body: Record<string, unknown>): Promise<string> {
  const res = await call('POST', '/key/generate', body);
  expect(res.status).toBe(200);
  return res.json.key as string;
}

export const card = (name: string, url: string) => ({
  protocolVersion: '0.3', name, description: `The ${name} agent`, url, version: '1.0.0', defaultInputModes: ['text'], defaultOutputModes: ['text'],
  capabilities: { streaming: true }, skills: [{ id: 'echo', name: 'Echo', description: 'says it back', tags: ['echo'] }],
});
export const send = (text: string, method = 'message/send', id: unknown = 1) => ({
  jsonrpc: '2.0', id, method, params: { message: { role: 'user', messageId: `u-${Math.random()}`, parts: [{ kind: 'text', text }] } },
});

export async function createAgent(name: string, url: string, params: Record<string, unknown> = {}): Promise<string> {
  const res = await call('POST', '/v1/agents', { agent_name: name, agent_card_params: card(name, url), litellm_params: params });
  expect(res.status).toBe(200);
  return res.json.agent_id as string;
}

