// What a call a Bedrock guardrail answers (disable_exception_on_block) gives the client and costs, end to end: the
// official openai client through workerd, the fake OpenAI and Azure echo on loopback, the fake Bedrock ApplyGuardrail.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BLOCKED_INPUT, BLOCKED_OUTPUT, SILENT_BLOCK } from './fakes/bedrock-guardrail.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { bedrockSoftConfig } from './support/bedrock-guardrails-config.ts';
import { useGuardrailsStack } from './support/guardrails-stack.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let llm: FakeUpstream;
let stack: TestStack;

useGuardrailsStack({
  config: (parts) => bedrockSoftConfig(parts, {
    models: `  - model_name: azure-gpt
    litellm_params: {model: azure/gpt-4o-deploy, api_base: "${parts.llm.url}", api_key: az-upstream-0003, api_version: "2024-10-21"}
`,
  }),
}, (s) => ({ llm, stack } = s));

const client = (apiKey = TEST_MASTER_KEY) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
const chunksOf = async (model: string, guardrails: string[], content: string) => {
  const stream = await client().chat.completions.create({
    model, messages: [{ role: 'user', content }], stream: true, stream_options: { include_usage: true }, guardrails,
  } as never) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join('') };
};

describe('a request a guardrail answered (pre_call)', () => {
  it('is settled at no cost: a success spend row at 0 naming the guardrail, the key\'s spend untouched', async () => {
    const key = await seedKey(stack.db.url);
    const { data, response } = await client(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'How do I build a bomb?' }], guardrails: ['bedrock-soft'] } as never).withResponse();
    expect(data.choices[0]?.message.content).toBe(BLOCKED_INPUT);
    expect(data.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0 });
    expect(response.headers.get('x-litellm-response-cost')).toBe('0');
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 0, completion_tokens: 0 });
    expect(Number(row.spend)).toBe(0);
    expect(row.metadata).toMatchObject({ applied_guardrails: ['bedrock-soft'] });
    // The key's spend is then what the one call a model answered cost, nothing more.
    const paid = await client(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    const paidRow = await eventually(() => spendLogRow(stack.db.url, paid.response.headers.get('x-litellm-call-id') ?? ''));
    expect(Number(paidRow.spend)).toBeGreaterThan(0);
    const spent = await eventually(async () => {
      const [k] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
      return Number(k?.spend) > 0 ? Number(k?.spend) : undefined;
    });
    expect(spent).toBeCloseTo(Number(paidRow.spend), 10);
  });

  it('streams the guardrail\'s text with finish_reason content_filter and a zero usage chunk when asked', async () => {
    const { chunks, text } = await chunksOf('gpt-4o', ['bedrock-soft'], 'How do I build a bomb?');
    expect(text).toBe(BLOCKED_INPUT);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0 });
    expect(llm.requests).toHaveLength(0);
  });

  it('answers with the 400\'s text when the guardrail blocked without a message of its own', async () => {
    const data = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `a ${SILENT_BLOCK}` }], guardrails: ['bedrock-soft'] } as never);
    expect(data.choices[0]?.message.content).toBe('blocked by the Bedrock guardrail');
  });

  it('answers a Responses request as a completed response, plain and streamed, whatever the chat bridge could not send', async () => {
    const ask = { model: 'gpt-4o', input: 'How do I build a bomb?', guardrails: ['bedrock-soft'], conversation: 'conv_123', prompt: { id: 'pmpt_123' } };
    const { data, response } = await client().responses.create(ask as never).withResponse();
    expect(data).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4o', usage: { input_tokens: 0, output_tokens: 0 } });
    expect(data.output).toHaveLength(1);
    expect(data.output_text).toBe(BLOCKED_INPUT);
    expect(response.headers.get('x-litellm-applied-guardrails')).toBe('bedrock-soft');
    const stream = await client().responses.create({ ...ask, stream: true } as never) as unknown as AsyncIterable<{ type: string; delta?: string; response?: OpenAI.Responses.Response }>;
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    expect(events.find((e) => e.type === 'response.output_text.delta')?.delta).toBe(BLOCKED_INPUT);
    expect(events.at(-1)?.response).toMatchObject({ status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: BLOCKED_INPUT }] }] });
    expect(llm.requests).toHaveLength(0);
  });
});

describe('an answer a guardrail answered (post_call)', () => {
  it('replays a stream as the guardrail\'s text, content_filter, keeping the model\'s usage chunk the client asked for', async () => {
    const { chunks, text } = await chunksOf('gpt-4o', ['bedrock-soft-out'], 'Say the word bomb');
    expect(text).toBe(BLOCKED_OUTPUT);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
    const plain = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say the word bomb' }], guardrails: ['bedrock-soft-out'] } as never);
    expect(plain.choices[0]).toMatchObject({ message: { content: BLOCKED_OUTPUT }, finish_reason: 'content_filter' });
  });

  it('answers a blocked Azure stream too, past its prompt_filter_results chunk', async () => {
    const { text } = await chunksOf('azure-gpt', ['bedrock-soft-out'], 'Say the word bomb');
    expect(llm.requests[0]?.path).toContain('/openai/deployments/gpt-4o-deploy/');
    expect(text).toBe(BLOCKED_OUTPUT);
  });
});
