import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, seedKey, seedTeam, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// general_settings.disable_spend_updates: LiteLLM's spend writer returns before writing anything, spend-log
// row included (DBSpendUpdateWriter.update_database); the same stack without it counts as usual.

const config = (disabled: boolean) => `
model_list:
  - model_name: priced
    litellm_params: {model: mock/priced, mock_response: "pong", input_cost_per_token: 0.001, output_cost_per_token: 0.002}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
${disabled ? '  disable_spend_updates: true\n' : ''}`;

let off: TestStack;
let on: TestStack;

beforeAll(async () => {
  [off, on] = await Promise.all([startTestStack({ configYaml: config(true) }), startTestStack({ configYaml: config(false) })]);
});
afterAll(async () => Promise.all([off?.stop(), on?.stop()]));

/** A team key's call on `stack`: its key, call id and cost. */
async function teamCall(stack: TestStack) {
  await seedTeam(stack.db.url, { id: 'team-1' });
  const key = await seedKey(stack.db.url, { teamId: 'team-1', userId: 'user-1' });
  const { response } = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 })
    .chat.completions.create({ model: 'priced', user: 'customer-1', messages: [{ role: 'user', content: 'count me' }] }).withResponse();
  return { key, callId: response.headers.get('x-litellm-call-id') ?? '', cost: Number(response.headers.get('x-litellm-response-cost')) };
}

async function spendOf(stack: TestStack, key: string) {
  const [k] = await query<{ spend: number }>(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
  const [t] = await query<{ team_spend: number }>(stack.db.url, 'SELECT team_spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['team-1']);
  const daily = await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_DailyKeySpend" WHERE api_key = $1', [sha256(key)]);
  const endUsers = await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_EndUserTable" WHERE user_id = $1', ['customer-1']);
  return { key: Number(k?.spend), team: Number(t?.team_spend), dailyRows: daily.length, endUsers: endUsers.length };
}

describe('disable_spend_updates', () => {
  it('writes no spend at all with the setting (no spend-log row, no rollup, key and team at 0), and all of it without', async () => {
    const disabled = await teamCall(off);
    const enabled = await teamCall(on);
    expect(disabled.cost).toBeGreaterThan(0);
    expect(enabled.cost).toBeCloseTo(disabled.cost, 12);

    // Without the setting: the row, the rollup and every entity's spend.
    const row = await eventually(() => spendLogRow(on.db.url, enabled.callId));
    expect(row).toMatchObject({ api_key: sha256(enabled.key), team_id: 'team-1', status: 'success' });
    await eventually(async () => ((await spendOf(on, enabled.key)).key > 0 ? true : undefined));
    const counted = await spendOf(on, enabled.key);
    expect(counted.key).toBeCloseTo(enabled.cost, 12);
    expect(counted.team).toBeCloseTo(enabled.cost, 12);
    expect([counted.dailyRows, counted.endUsers]).toEqual([1, 1]);

    // With it, by the time the other stack's consumer has written (the same Queue timing) and a margin more: nothing.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await spendLogRow(off.db.url, disabled.callId)).toBeUndefined();
    expect(await spendOf(off, disabled.key)).toEqual({ key: 0, team: 0, dailyRows: 0, endUsers: 0 });
  });

  it('keeps serving: the next call of the same key still answers, its limiter counting what Postgres no longer learns', async () => {
    const key = await seedKey(off.db.url, {});
    const client = new OpenAI({ baseURL: `${off.url}/v1`, apiKey: key, maxRetries: 0 });
    await client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'one' }] });
    const { data, response } = await client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'two' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('pong');
    expect(Number(response.headers.get('x-litellm-key-spend'))).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [row] = await query<{ spend: number }>(off.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
    expect(Number(row?.spend)).toBe(0);
  });
});
