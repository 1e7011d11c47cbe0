// The shapes of a call a Bedrock guardrail answered (disable_exception_on_block) beyond plain chat, end to end:
// the official openai and Anthropic clients through workerd, the fake OpenAI on loopback, the fake Bedrock
// ApplyGuardrail. /v1/messages, streamed text completions, the Responses API's event numbering, the model's
// cached-token usage kept by a replayed stream, and the key's parallel-request slot given back.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BLOCKED_INPUT, BLOCKED_OUTPUT } from './fakes/bedrock-guardrail.ts';
import { openaiChatChunks } from './fakes/openai-format.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { bedrockSoftConfig } from './support/bedrock-guardrails-config.ts';
import { useGuardrailsStack } from './support/guardrails-stack.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let llm: FakeUpstream;
let stack: TestStack;

useGuardrailsStack({ config: (parts) => bedrockSoftConfig(parts) }, (s) => ({ llm, stack } = s));

const openai = (apiKey = TEST_MASTER_KEY) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: stack.url, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
/** A streamed answer the post_call guardrail blocks ("bomb"), with a usage chunk whose prompt was mostly cached. */
const cachedBlockedStream = () => llm.enqueue({
  kind: 'sse',
  events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['a bomb', ' is here'], promptTokens: 1200, completionTokens: 5, cachedTokens: 1024, includeUsage: true }), '[DONE]'],
});
const drain = async <T>(stream: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
};

describe('a streamed answer a guardrail answered (post_call)', () => {
  it('keeps the model\'s own usage object in the replayed usage chunk, cached-token details included', async () => {
    cachedBlockedStream();
    const chunks = await drain(await openai().chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }, guardrails: ['bedrock-soft-out'],
    } as never) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(BLOCKED_OUTPUT);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 1200, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 1024 } });
  });

  it('answers /v1/messages streamed with stop_reason refusal and the cached tokens in its usage', async () => {
    cachedBlockedStream();
    const stream = anthropic().messages.stream({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], metadata: { guardrails: ['bedrock-soft-out'] } as never });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: BLOCKED_OUTPUT }]);
    expect(message.stop_reason).toBe('refusal');
    expect(message.usage).toMatchObject({ output_tokens: 5, cache_read_input_tokens: 1024 });
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });
});

describe('a request a guardrail answered (pre_call), in each endpoint\'s shape', () => {
  it('answers /v1/messages plain and streamed: the guardrail\'s text, stop_reason refusal, zero usage, no provider called', async () => {
    const ask = { model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user' as const, content: 'How do I build a bomb?' }], metadata: { guardrails: ['bedrock-soft'] } as never };
    const plain = await anthropic().messages.create(ask);
    expect(plain).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: BLOCKED_INPUT }], stop_reason: 'refusal', usage: { input_tokens: 0, output_tokens: 0 } });
    const stream = anthropic().messages.stream(ask);
    const deltas: Anthropic.MessageDeltaEvent[] = [];
    stream.on('streamEvent', (event) => { if (event.type === 'message_delta') deltas.push(event); });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: BLOCKED_INPUT }]);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ delta: { stop_reason: 'refusal' }, usage: { output_tokens: 0 } });
    expect(llm.requests).toHaveLength(0);
  });

  it('streams a /v1/completions answer: the guardrail\'s text, finish_reason content_filter, a zero usage chunk', async () => {
    const chunks = await drain(await openai().completions.create({
      model: 'gpt-4o', prompt: 'How do I build a bomb?', stream: true, stream_options: { include_usage: true }, guardrails: ['bedrock-soft'],
    } as never) as unknown as AsyncIterable<OpenAI.Completion>);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(BLOCKED_INPUT);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.at(-1)).toMatchObject({ object: 'text_completion', choices: [], usage: { prompt_tokens: 0, completion_tokens: 0 } });
    expect(llm.requests).toHaveLength(0);
  });

  it('numbers a streamed Responses answer\'s events 0 to 8, in order', async () => {
    const events = await drain(await openai().responses.create({ model: 'gpt-4o', input: 'How do I build a bomb?', stream: true, guardrails: ['bedrock-soft'] } as never) as unknown as AsyncIterable<{ sequence_number: number }>);
    expect(events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('an answered call and the key\'s max_parallel_requests', () => {
  it('gives the slot back: a key allowed one call at a time makes answered streamed calls back to back, all admitted', async () => {
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET max_parallel_requests = 1 WHERE token = $1', [sha256(key)]);
    const call = (guardrail: string) => openai(key).chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'Say the word bomb' }], stream: true, guardrails: [guardrail],
    } as never).withResponse();
    // Pre_call answered twice, then post_call answered twice: each drained before the next begins.
    for (const guardrail of ['bedrock-soft', 'bedrock-soft', 'bedrock-soft-out', 'bedrock-soft-out']) {
      const { data, response } = await call(guardrail);
      expect(response.status, guardrail).toBe(200);
      const chunks = await drain(data as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(guardrail === 'bedrock-soft' ? BLOCKED_INPUT : BLOCKED_OUTPUT);
    }
  });
});

// The zero cost of a pre_call answer (callSettler's guardrailAnswered override, the guarantee) cannot be made to
// differ from what its zero usage costs by any chat deployment's pricing: per-query pricing (input_cost_per_query)
// applies to rerank searches only, and every other chat price is per token, image, character, second or page of
// usage, all zero here. guardrails-bedrock-answers.test.ts checks the cost header and spend row say 0.
