import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Background responses (`background: true`) through the official openai
 * client: the POST answers the response queued (priced at 0), and the first
 * fetch that finds it finished records its spend, once, however often it is
 * fetched. Prices: 0.001 an input token, 0.002 an output token.
 */

let fake: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: deep
    litellm_params: {model: openai/o3-deep-research, api_base: "${fake.url}/v1", api_key: sk-upstream-deep-0001, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
    model_info: {id: deep-1}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

/** The provider's response object as a background response is at each stage. */
const background = (id: string, status: 'queued' | 'in_progress' | 'completed', usage: ReturnType<typeof responsesUsage> | null = null) => ({
  ...responseObject('o3-deep-research', 'the report', usage, { response: id, message: 'msg_bg' }, status === 'completed' ? 'completed' : 'in_progress'),
  status, background: true,
});

async function keySpend(key: string): Promise<number> {
  const [row] = await query<{ spend: number }>(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
  return Number(row?.spend);
}

describe('background responses', () => {
  it('are created queued at no cost, and counted once, when first fetched finished', async () => {
    const key = await seedKey(stack.db.url);
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    fake.enqueue({ kind: 'json', body: background('resp_bg_1', 'queued') });
    const { data: created, response } = await client.responses.create({ model: 'deep', input: 'Research this', background: true }).withResponse();
    expect(created).toMatchObject({ status: 'queued', background: true });
    expect(fake.requests[0]!.body).toMatchObject({ model: 'o3-deep-research', background: true });
    expect(response.headers.get('x-litellm-response-cost')).toBe('0');
    const creation = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(creation).toMatchObject({ call_type: 'aresponses', spend: 0 });

    // Still running: nothing to count.
    fake.enqueue({ kind: 'json', body: background('resp_bg_1', 'in_progress') });
    expect((await client.responses.retrieve(created.id)).status).toBe('in_progress');
    // Finished: its usage is counted, under the response's id, by the key that fetched it.
    for (let i = 0; i < 3; i++) fake.enqueue({ kind: 'json', body: background('resp_bg_1', 'completed', responsesUsage(1000, 500)) });
    const done = await client.responses.retrieve(created.id);
    expect(done).toMatchObject({ id: created.id, status: 'completed', output_text: 'the report' });
    const row = await eventually(() => spendLogRow(stack.db.url, created.id));
    expect(row).toMatchObject({ call_type: 'aresponses', api_key: sha256(key), model_group: 'deep', model_id: 'deep-1', prompt_tokens: 1000, completion_tokens: 500, status: 'success' });
    expect(row.spend as number).toBeCloseTo(1000 * 0.001 + 500 * 0.002, 10);
    await eventually(async () => ((await keySpend(key)) > 1.9 ? true : undefined));

    // Fetched again (finished): nothing more is counted.
    await client.responses.retrieve(created.id);
    await client.responses.retrieve(created.id);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await keySpend(key)).toBeCloseTo(2, 10);
    expect(await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [created.id])).toHaveLength(1);
  });

  it('are not streamed (they would be counted twice)', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: await seedKey(stack.db.url), maxRetries: 0 });
    const streamed = await client.responses.create({ model: 'deep', input: 'hi', background: true, stream: true }).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });
});
