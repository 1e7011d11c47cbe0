import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixturePayloads, sseEvent, streamFixture } from './fakes/anthropic.ts';
import { fixtureFrames } from './fakes/aws-eventstream.ts';
import { signedBedrock } from './fakes/bedrock.ts';
import { openaiChatChunks } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// A streamed answer with reasoning, cached whole and replayed with it (the in-isolate cache, as cache-local.test.ts).
let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;
const bedrock = signedBedrock({ accessKeyId: 'AKIATESTREASONING001', secretAccessKey: 'reasoning/Secret+0123456789abcdefghijkl' }, 'us-east-1');

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: reasoner
    litellm_params: {model: openai/deepseek-reasoner, api_base: "${fake.url}/v1", api_key: sk-fake}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-fake}
  - model_name: bedrock-claude
    litellm_params: {model: "bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", api_base: "${fake.url}", aws_access_key_id: ${bedrock.credentials.accessKeyId}, aws_secret_access_key: "${bedrock.credentials.secretAccessKey}", aws_region_name: us-east-1}
litellm_settings:
  cache: true
  cache_params: {type: local, ttl: 600}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

/** A reasoning server's stream: the reasoning in pieces, then the answer, usage with reasoning tokens. */
function reasoningStream(field: 'reasoning_content' | 'reasoning' = 'reasoning_content'): unknown[] {
  return [...openaiChatChunks({
    model: 'deepseek-reasoner', id: 'chatcmpl-think', created: 1_700_000_000, reasoningPieces: ['Two plus ', 'two is four.'], reasoningField: field,
    pieces: ['The answer ', 'is 4.'], promptTokens: 12, completionTokens: 30, reasoningTokens: 21, includeUsage: true,
  }), '[DONE]'];
}

type Delta = Record<string, unknown> & { content?: string | null };

/** A streamed request's deltas in order (each field a client reads), joined as a client joins them, and its response. */
async function streamed(content: string, model = 'reasoner') {
  const { data: stream, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content }] }).withResponse();
  const order: string[] = [];
  const joined: Record<string, string> = {};
  const blocks: unknown[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    finish = choice.finish_reason ?? finish;
    const delta = choice.delta as Delta;
    for (const field of ['reasoning_content', 'reasoning', 'content'] as const) {
      const piece = delta[field];
      if (typeof piece !== 'string' || !piece) continue;
      joined[field] = (joined[field] ?? '') + piece;
      if (order.at(-1) !== field) order.push(field);
    }
    if (Array.isArray(delta.thinking_blocks)) blocks.push(...(delta.thinking_blocks as unknown[]));
  }
  return { joined, order, blocks, finish, key: response.headers.get('x-litellm-cache-key') };
}

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('a streamed answer with reasoning, in the response cache', () => {
  it('is stored with its reasoning_content and reasoning tokens, and replayed as a stream (reasoning first) and as JSON', async () => {
    fake.enqueue({ kind: 'sse', events: reasoningStream() });
    const first = await streamed('what is 2+2?');
    expect(first).toMatchObject({ joined: { reasoning_content: 'Two plus two is four.', content: 'The answer is 4.' }, finish: 'stop', key: null });
    await settle();

    const replayed = await streamed('what is 2+2?');
    expect(replayed.key).toMatch(/^tollgate:[0-9a-f]{64}$/);
    expect(replayed.joined).toEqual(first.joined);
    expect(replayed.order).toEqual(['reasoning_content', 'content']);
    expect(replayed.finish).toBe('stop');

    const plain = await client.chat.completions.create({ model: 'reasoner', messages: [{ role: 'user', content: 'what is 2+2?' }] }).withResponse();
    expect(plain.response.headers.get('x-litellm-cache-key')).toBe(replayed.key);
    expect(plain.data).toMatchObject({ id: 'chatcmpl-think', created: 1_700_000_000, model: 'deepseek-reasoner' });
    expect(plain.data.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'The answer is 4.', reasoning_content: 'Two plus two is four.' } });
    expect(plain.data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 30, completion_tokens_details: { reasoning_tokens: 21 } });
    expect(fake.requests).toHaveLength(1);
  });

  it('is stored under OpenRouter\'s `reasoning` field as it streamed, and replayed under it', async () => {
    fake.enqueue({ kind: 'sse', events: reasoningStream('reasoning') });
    const first = await streamed('openrouter style');
    expect(first.joined).toEqual({ reasoning: 'Two plus two is four.', content: 'The answer is 4.' });
    await settle();
    const replayed = await streamed('openrouter style');
    expect(replayed.key).toMatch(/^tollgate:/);
    expect(replayed).toMatchObject({ joined: first.joined, order: ['reasoning', 'content'] });
    expect(fake.requests).toHaveLength(1);
  });

  it('is stored from a Claude stream that thought, with each thinking block\'s signature, and replayed with them', async () => {
    fake.enqueue(streamFixture('thinking'));
    const first = await streamed('multiply 27 by 453', 'claude');
    const signed = { type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' };
    expect(first).toMatchObject({ joined: { reasoning_content: '27 * 453 = 12231', content: '12,231' }, blocks: [signed] });
    await settle();

    const replayed = await streamed('multiply 27 by 453', 'claude');
    expect(replayed.key).toMatch(/^tollgate:/);
    expect(replayed.joined).toEqual(first.joined);
    expect(replayed.order).toEqual(['reasoning_content', 'content']);
    // Block by block as the live stream gave them: the thinking as reasoning_content, then the block's signature.
    expect(replayed.blocks).toEqual(first.blocks);

    const plain = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'multiply 27 by 453' }] });
    expect(plain.choices[0]!.message).toMatchObject({ content: '12,231', reasoning_content: '27 * 453 = 12231', thinking_blocks: [{ ...signed, thinking: '27 * 453 = 12231' }] });
    expect(fake.requests).toHaveLength(1);
  });

  it('is stored from a Bedrock Converse stream that reasoned, and replayed with its reasoning_content', async () => {
    const frames = fixtureFrames([
      { type: 'messageStart', event: { role: 'assistant' } },
      { type: 'contentBlockDelta', event: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'France\'s capital ' } } } },
      { type: 'contentBlockDelta', event: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'is Paris.' } } } },
      { type: 'contentBlockDelta', event: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'ErcBCkgIBhABsig' } } } },
      { type: 'contentBlockStop', event: { contentBlockIndex: 0 } },
      { type: 'contentBlockDelta', event: { contentBlockIndex: 1, delta: { text: 'Paris.' } } },
      { type: 'contentBlockStop', event: { contentBlockIndex: 1 } },
      { type: 'messageStop', event: { stopReason: 'end_turn' } },
      { type: 'metadata', event: { usage: { inputTokens: 21, outputTokens: 40, totalTokens: 61 }, metrics: { latencyMs: 388 } } },
    ]);
    fake.enqueue(bedrock.reply({ kind: 'eventstream', frames, pieceBytes: 7 }));
    const first = await streamed('capital of France?', 'bedrock-claude');
    expect(first.joined).toEqual({ reasoning_content: 'France\'s capital is Paris.', content: 'Paris.' });
    await settle();
    const replayed = await streamed('capital of France?', 'bedrock-claude');
    expect(replayed.key).toMatch(/^tollgate:/);
    expect(replayed).toMatchObject({ joined: first.joined, order: ['reasoning_content', 'content'], finish: 'stop' });
    expect(fake.requests).toHaveLength(1);
  });

  it('is not stored from a Claude stream whose thinking block never got its signature', async () => {
    const unsigned = { kind: 'sse' as const, events: fixturePayloads('thinking').filter((e) => !e.includes('signature_delta')).map(sseEvent) };
    fake.enqueue(unsigned, unsigned);
    await streamed('unsigned thought', 'claude');
    await settle();
    expect((await streamed('unsigned thought', 'claude')).key).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('is not stored when the reasoning came with a refusal, a second choice, or past what the gateway keeps', async () => {
    const chunk = (delta: unknown, index = 0, finish: string | null = null) => ({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'deepseek-reasoner', choices: [{ index, delta, logprobs: null, finish_reason: finish }] });
    const refusal = [chunk({ role: 'assistant', content: null, reasoning_content: 'Not allowed.' }), chunk({ refusal: "I can't help with that." }), chunk({}, 0, 'stop'), '[DONE]'];
    const two = [chunk({ role: 'assistant', reasoning_content: 'A' }), chunk({ role: 'assistant', reasoning_content: 'B' }, 1), chunk({ content: 'a' }, 0, 'stop'), chunk({ content: 'b' }, 1, 'stop'), '[DONE]'];
    const long = [chunk({ role: 'assistant', content: null }), ...Array.from({ length: 5 }, () => chunk({ reasoning_content: 'x'.repeat(60 * 1024) })), chunk({ content: 'done' }, 0, 'stop'), '[DONE]'];
    for (const [question, events] of [['refused', refusal], ['two choices', two], ['long thought', long]] as const) {
      fake.reset();
      fake.enqueue({ kind: 'sse', events }, { kind: 'sse', events });
      await streamed(question);
      await settle();
      expect((await streamed(question)).key, question).toBeNull();
      expect(fake.requests, question).toHaveLength(2);
    }
  });
});
