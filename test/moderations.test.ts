import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /v1/moderations` with the official openai client: sent to OpenAI's
 * moderation endpoint of the model group (or, without a model, the config's
 * moderation group, as LiteLLM does), answered as the provider answered, and
 * counted as a free call; refused with a 400 for a provider without one.
 */

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

const moderation = (flagged: boolean) => ({
  id: 'modr-123',
  model: 'omni-moderation-2024-09-26',
  results: [{
    flagged,
    categories: { harassment: false, violence: flagged },
    category_scores: { harassment: 0.001, violence: flagged ? 0.91 : 0.002 },
    category_applied_input_types: { harassment: ['text'], violence: ['text'] },
  }],
});

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-chat-0001}
  - model_name: moderation
    litellm_params: {model: openai/omni-moderation-latest, api_base: "${fake.url}/v1", api_key: sk-upstream-mod-0002}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-0003}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('/v1/moderations', () => {
  it('sends the input to the group\'s moderation model and answers as the provider did, counted as a free call', async () => {
    fake.enqueue({ kind: 'json', body: moderation(true) });
    const { data, response } = await client.moderations.create({ model: 'moderation', input: 'I want to hurt someone' }).withResponse();
    expect(data.results[0]!.flagged).toBe(true);
    expect(data.results[0]!.category_scores.violence).toBe(0.91);
    const [sent] = fake.requests;
    expect([sent!.method, sent!.path, sent!.headers.authorization]).toEqual(['POST', '/v1/moderations', 'Bearer sk-upstream-mod-0002']);
    expect(sent!.body).toEqual({ model: 'omni-moderation-latest', input: 'I want to hurt someone' });
    expect(response.headers.get('x-litellm-model-group')).toBe('moderation');

    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'amoderation', model_group: 'moderation', spend: 0, prompt_tokens: 0, completion_tokens: 0, status: 'success' });
  });

  it('without a model, goes to the config\'s moderation group, also at /moderations', async () => {
    fake.enqueue({ kind: 'json', body: moderation(false) });
    const res = await fetch(`${stack.url}/moderations`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: ['first text', 'second text'] }),
    });
    expect(res.status).toBe(200);
    expect((await res.json() as { results: { flagged: boolean }[] }).results[0]!.flagged).toBe(false);
    expect(fake.requests[0]!.body).toEqual({ model: 'omni-moderation-latest', input: ['first text', 'second text'] });
  });

  it('refuses a provider without moderations, bad input and a key without access, with no upstream call', async () => {
    const claude = await client.moderations.create({ model: 'claude', input: 'hi' }).catch((e: unknown) => e);
    expect(claude).toBeInstanceOf(OpenAI.BadRequestError);
    expect((claude as InstanceType<typeof OpenAI.APIError>).message).toContain('does not serve /moderations');

    const bad = await client.moderations.create({ model: 'moderation', input: 42 as never }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.APIError>).message).toContain('input must be a string');

    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    const limited = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const denied = await limited.moderations.create({ model: 'moderation', input: 'hi' }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(fake.requests).toHaveLength(0);
  });
});
