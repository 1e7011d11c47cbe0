import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { ROOT } from '../scripts/lib/build.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// POST /spend/calculate: a call's cost from an answer's usage, or from a prompt before the call.

let stack: TestStack;
const { call, ok } = adminClient(() => stack);

/** The price table's row for a model: [input per token, output per token, ...]. */
const tableRow = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'worker', 'cost', 'prices.json'), 'utf8')) as { models: Record<string, number[]> }).models[name]!;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: house-model
    litellm_params: {model: mock/house, mock_response: "hi", input_cost_per_token: 0.001, output_cost_per_token: 0.002}
  - model_name: team-gpt
    litellm_params: {model: openai/gpt-4o, api_key: sk-not-called}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => stack?.stop());

describe('POST /spend/calculate', () => {
  it('prices an answer from its usage: a model group by its own prices, else the price table by the answer\'s model', async () => {
    const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 };
    expect(await ok('/spend/calculate', { model: 'house-model', completion_response: { usage } })).toEqual({ cost: 1000 * 0.001 + 500 * 0.002 });
    const [input, output] = tableRow('gpt-4o-2024-08-06');
    const byTable = await ok('/spend/calculate', { completion_response: { model: 'gpt-4o-2024-08-06', usage } }) as { cost: number };
    expect(byTable.cost).toBeCloseTo(1000 * input! + 500 * output!, 12);
    // A group priced by the table through its deployment's model; a Responses API answer's usage names its tokens differently.
    const [groupInput, groupOutput] = tableRow('gpt-4o');
    const viaGroup = await ok('/spend/calculate', { model: 'team-gpt', completion_response: { usage: { input_tokens: 1000, output_tokens: 500 } } }) as { cost: number };
    expect(viaGroup.cost).toBeCloseTo(1000 * groupInput! + 500 * groupOutput!, 12);
  });

  it('prices a prompt before the call, estimated at four characters a token', async () => {
    const messages = [{ role: 'user', content: 'x'.repeat(400) }];
    expect(await ok('/spend/calculate', { model: 'house-model', messages })).toEqual({ cost: 100 * 0.001 });
  });

  it('answers 422 without what it needs (as the admin API does for a body it cannot take), 400 for a model it knows no price of', async () => {
    const missing = await call('/spend/calculate', { model: 'house-model' });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body)).toContain('send completion_response, or model and messages');
    const unknown = await call('/spend/calculate', { model: 'no-such-model-anywhere', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { param: 'model' } });
    expect((await call('/spend/calculate', { model: 'house-model', messages: [] }, null)).status).toBe(401);
  });
});
