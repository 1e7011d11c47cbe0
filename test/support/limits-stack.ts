import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { seedKey, sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * The stack the limits suites share: a priced mock model (each call costs 0.002 and reserves 0.003
 * with max_tokens 2) and a real-wire one on a fake upstream; a chat call as a given key, keys seeded
 * with columns of their own, and the gateway's test clock.
 */
export interface LimitsStack {
  stack: TestStack;
  fake: FakeUpstream;
  chat(key: string, extra?: Record<string, unknown>): Promise<Response>;
  keyWith(columns: Record<string, unknown>, team?: string): Promise<string>;
  setClock(offsetMs: number): Promise<Response>;
  stop(): Promise<void>;
}

export async function startLimitsStack(): Promise<LimitsStack> {
  const fake = await startFakeUpstream();
  const stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.001, output_cost_per_token: 0.001}
  - model_name: slow-stream
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
`,
  });
  return {
    stack,
    fake,
    chat: (key, extra = {}) => fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, ...extra }),
    }),
    keyWith: async (columns, team) => {
      const key = await seedKey(stack.db.url, { teamId: team });
      if (Object.keys(columns).length === 0) return key;
      const sets = Object.keys(columns).map((c, i) => `${c} = $${i + 2}`).join(', ');
      await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET ${sets} WHERE token = $1`, [sha256(key), ...Object.values(columns)]);
      return key;
    },
    setClock: (offsetMs) => fetch(`${stack.url}/__tollgate/test/clock`, { method: 'POST', body: JSON.stringify({ offset_ms: offsetMs }) }),
    stop: async () => {
      await stack.stop();
      await fake.close();
    },
  };
}
