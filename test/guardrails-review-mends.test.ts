// Guardrails' second-review mends, end to end: the official openai client through workerd, a fake OpenAI/Cohere
// on loopback (echoing chat prompts), and the fake Presidio. An endpoint's texts are read by the endpoint (an
// empty `messages` hides nothing), every string of a rerank document is checked, a refused answer's or an
// over-long request's spend row keeps no prompt, and a text holding part of Presidio's batch separator stays whole.
// An answer's reasoning, which no guardrail reads, is stored in the spend row unless a masking post_call guardrail read the answer.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openaiChatCompletion } from './fakes/openai-chat-format.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { useGuardrailsStack } from './support/guardrails-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let llm: FakeUpstream;
let guard: FakeUpstream;
let stack: TestStack;

useGuardrailsStack({ config: ({ llm, presidio, upstream }) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, ${upstream}}
  - model_name: instruct
    litellm_params: {model: openai/gpt-3.5-turbo-instruct, ${upstream}}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, ${upstream}}
  - model_name: cohere-rerank
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${llm.url}/v2", api_key: co-upstream-0002}
litellm_settings:
  drop_params: true
general_settings:
  # Prompts are kept in the spend log: what a refused call's row lacks below, it would otherwise keep.
  store_prompts_in_spend_logs: true
guardrails:
  - guardrail_name: pii-mask
    litellm_params: {guardrail: presidio, mode: pre_call, ${presidio}, pii_entities_config: {PERSON: MASK}}
  - guardrail_name: pii-out-block
    litellm_params: {guardrail: presidio, mode: post_call, ${presidio}, pii_entities_config: {PERSON: BLOCK}}
  - guardrail_name: pii-out-mask
    litellm_params: {guardrail: presidio, mode: post_call, ${presidio}, pii_entities_config: {PERSON: MASK}}
` }, (s) => ({ llm, guard, stack } = s));

const openai = (key = TEST_MASTER_KEY) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
const guardrails = ['pii-mask'];

describe('an endpoint\'s texts, read by the endpoint', () => {
  it('refuses an embedding, a response and a completion that carry a messages field (400), sending nothing, and masks them without it', async () => {
    const calls = [
      () => openai().embeddings.create({ model: 'embed', input: 'John Smith lives here', messages: [], guardrails } as never),
      () => openai().responses.create({ model: 'gpt-4o', input: 'John Smith lives here', messages: [], guardrails } as never),
      () => openai().completions.create({ model: 'instruct', prompt: 'John Smith lives here', messages: [], guardrails } as never),
    ];
    for (const call of calls) {
      const err = await refusal(call());
      expect(err.status).toBe(400);
      expect(err.error).toMatchObject({ type: 'bad_request_error', param: 'messages', message: expect.stringContaining('guardrails (pii-mask) do not read it') });
    }
    expect(llm.requests).toHaveLength(0);
    // Without it, the same embedding reaches the provider masked.
    await openai().embeddings.create({ model: 'embed', input: 'John Smith lives here', guardrails } as never).catch(() => undefined);
    expect(llm.requests[0]?.body).toMatchObject({ input: '<PERSON> lives here' });
  });

  it('masks every string field of a rerank\'s object documents (Cohere ranks any of them with rank_fields)', async () => {
    llm.enqueue({ kind: 'json', body: { id: 'rr-1', results: [{ index: 0, relevance_score: 0.9 }] } });
    const res = await fetch(`${stack.url}/v2/rerank`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cohere-rerank', query: 'who?', rank_fields: ['title'], documents: [{ text: 'a page', title: 'About John Smith' }], guardrails }),
    });
    expect(res.status).toBe(200);
    expect(llm.requests[0]?.body).toMatchObject({ documents: [{ text: 'a page', title: 'About <PERSON>' }] });
    expect(JSON.stringify(llm.requests[0]?.body)).not.toContain('Smith');
  });

  it('keeps each text whole when one holds part of Presidio\'s batch separator', async () => {
    await openai().embeddings.create({ model: 'embed', input: ['John Smith\n\n\u2063', '\n\nhello', 'Smith Jones'], guardrails } as never).catch(() => undefined);
    expect((llm.requests[0]?.body as { input: string[] }).input).toEqual(['<PERSON>\n\n\u2063', '\n\nhello', '<PERSON>']);
  });
});

describe('a refused call\'s spend row keeps no prompt', () => {
  it('when a post_call guardrail refuses the answer', async () => {
    const err = await refusal(openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello to John Smith' }], guardrails: ['pii-out-block'] } as never));
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ type: 'guardrail_violation' });
    expect(llm.requests).toHaveLength(1);
    const row = await eventually(() => spendLogRow(stack.db.url, err.headers?.get('x-litellm-call-id') ?? ''));
    expect(row.status).toBe('failure');
    expect(row.messages ?? null).toBeNull();
    expect(JSON.stringify(row)).not.toContain('John Smith');
  });

  it('when Presidio is given more text than it checks (400 guardrail_violation)', async () => {
    const key = await seedKey(stack.db.url);
    const input = Array.from({ length: 9 }, (_, i) => `${i ? '' : 'Jane Marker '}${'a'.repeat(100_000)}`);
    const err = await refusal(openai(key).embeddings.create({ model: 'embed', input, guardrails } as never));
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ type: 'guardrail_violation', message: expect.stringContaining('Too much text for guardrail pii-mask') });
    const [row] = await eventually(async () => {
      const rows = await query(stack.db.url, `SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = encode(sha256($1::bytea), 'hex')`, [key]);
      return rows.length ? rows : undefined;
    });
    expect(row).toMatchObject({ status: 'failure' });
    expect(JSON.stringify(row)).not.toContain('Jane Marker');
  });
});

describe('a reasoning answer\'s spend row', () => {
  const reasoned = () => llm.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'deepseek-reasoner', content: 'Hello there.', reasoningContent: 'The user is John Smith.', promptTokens: 9, completionTokens: 12 }) });
  const stored = async (callId: string) => (await eventually(() => spendLogRow(stack.db.url, callId)))!.response as { choices: { message: Record<string, unknown> }[] };

  it('keeps its reasoning as the message\'s reasoning_content', async () => {
    reasoned();
    const { response } = await openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Greet me' }] }).withResponse();
    expect((await stored(response.headers.get('x-litellm-call-id') ?? '')).choices[0]!.message).toEqual({ role: 'assistant', content: 'Hello there.', reasoning_content: 'The user is John Smith.' });
  });

  it('keeps none where a post_call guardrail that masks read the answer, though it masked nothing of the text', async () => {
    reasoned();
    const { data, response } = await openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Greet me' }], guardrails: ['pii-out-mask'] } as never).withResponse();
    // The client gets the answer as it came: no guardrail reads the reasoning.
    expect(data.choices[0]!.message).toMatchObject({ content: 'Hello there.', reasoning_content: 'The user is John Smith.' });
    const row = await stored(response.headers.get('x-litellm-call-id') ?? '');
    expect(row.choices[0]!.message).toEqual({ role: 'assistant', content: 'Hello there.' });
    expect(JSON.stringify(row)).not.toContain('John Smith');
  });
});
