import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey } from './support/keys.ts';
import { exec } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.001, output_cost_per_token: 0.001}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  budget_duration: 30d
  max_budget: 0.012
`,
  });
});
afterAll(async () => stack?.stop());

const chat = (key: string) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
});

describe('the proxy-wide budget (general_settings.max_budget)', () => {
  it('counts what the spend logs already hold for this window, and then every key\'s calls, the master key\'s too', async () => {
    // Spend from earlier this month (e.g. before a deploy) counts: 0.006 of 0.012.
    await exec(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, spend, "startTime", "endTime") VALUES ('earlier', 0.006, now(), now())`);
    const keys = [await seedKey(stack.db.url), await seedKey(stack.db.url), TEST_MASTER_KEY];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await chat(keys[i % keys.length] as string)).status);
    // Each call costs 0.002: three fit in what is left, then every caller is refused.
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    const body = await (await chat(keys[0] as string)).json() as { error: { type: string; message: string } };
    expect(body.error.type).toBe('budget_exceeded');
    expect(body.error.message).toMatch(/^Budget has been exceeded! Proxy=proxy Current cost: 0\.012, Max budget: 0\.012$/);
  });
});
