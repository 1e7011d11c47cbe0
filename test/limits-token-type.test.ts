import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// general_settings.token_rate_limit_type: which of a call's tokens count against a key's tpm_limit.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.000001, output_cost_per_token: 0.000001}
general_settings:
  token_rate_limit_type: output
`,
  });
});
afterAll(async () => {
  await stack?.stop();
});

const chat = (key: string, content: string, maxTokens: number) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content }], max_tokens: maxTokens }),
});

describe('token_rate_limit_type: output', () => {
  it('counts only the answer\'s tokens against tpm_limit: prompts far over the limit are admitted, call after call', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-output-tokens' });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET tpm_limit = 10 WHERE token = $1', [sha256(key)]);
    // About 250 prompt tokens each: counted as total tokens the first would leave the key none, and the second would get a 429.
    for (let i = 0; i < 3; i++) {
      const long = await chat(key, 'word '.repeat(250), 2);
      expect(long.status).toBe(200);
      // What is left is the limit less the answers' tokens (2 reserved for this one, at most 2 each before).
      const remaining = Number(long.headers.get('x-ratelimit-remaining-tokens'));
      expect(remaining).toBeGreaterThanOrEqual(10 - 2 * (i + 1));
      // ...and the answers' tokens do count: at least the one reserved for this answer is gone.
      expect(remaining).toBeLessThanOrEqual(10 - (i + 1));
    }
  });
});
