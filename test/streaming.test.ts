import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiChatChunks } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake-upstream-key}
litellm_settings:
  drop_params: true
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const pieces = ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.'];
const pacedStream = (intervalMs: number, extra: Record<string, unknown> = {}) => ({
  kind: 'sse' as const,
  intervalMs,
  events: [...openaiChatChunks({ model: 'gpt-4o', pieces, promptTokens: 12, completionTokens: 10, includeUsage: true }), '[DONE]'],
  ...extra,
});

describe('streaming', () => {
  it('forwards the first chunk before the upstream has finished', async () => {
    fake.enqueue(pacedStream(150));
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'go' }] });
    let firstAt = 0;
    let text = '';
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (piece && !firstAt) firstAt = Date.now();
      text += piece ?? '';
    }
    const finishedAt = fake.requests[0]?.finishedAt ?? 0;
    expect(text).toBe(pieces.join(''));
    // The upstream spends ~1.8 s on its 13 events; the first words must arrive long before it is done.
    expect(finishedAt - started).toBeGreaterThan(1500);
    expect(firstAt).toBeLessThan(finishedAt - 1000);
  });

  it('passes a client abort on to the upstream and still records the spend so far', async () => {
    fake.enqueue(pacedStream(400));
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'go' }] }, { signal: controller.signal })
      .withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    let received = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received++;
        if (received === 2) controller.abort();
      }
    } catch {
      // the SDK throws on abort
    }
    const upstream = fake.requests[0];
    await Promise.race([upstream?.aborted, new Promise((_, reject) => setTimeout(() => reject(new Error('abort did not reach upstream')), 5000))]);
    expect(upstream?.abortedEarly).toBe(true);
    const row = await eventually(() => spendLogRow(stack.db.url, callId));
    expect(row).toMatchObject({ status: 'success', model_group: 'gpt-4o' });
    expect(row.metadata).toMatchObject({ client_disconnected: true, usage_estimated: true });
    expect(Number(row.completion_tokens)).toBeGreaterThan(0);
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('ends a stream the upstream drops with an error event, and records the failure', async () => {
    fake.enqueue(pacedStream(20, { dropAfter: 4 }));
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'go' }] })
      .withResponse();
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe(pieces.slice(0, 3).join(''));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure', error_type: 'api_connection_error' });
  });

  it('records the provider\'s own usage for a complete stream', async () => {
    fake.enqueue(pacedStream(0));
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'go' }] })
      .withResponse();
    for await (const _ of stream) { /* drain */ }
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 12, completion_tokens: 10, total_tokens: 10 + 12 });
    expect(Number(row.spend)).toBeCloseTo(12 * 2.5e-6 + 10 * 1e-5, 12);
    expect(row.completionStartTime).not.toBeNull();
    expect(row.metadata).not.toHaveProperty('usage_estimated');
  });
});

describe('drop_params: true', () => {
  it('drops what the provider does not take instead of refusing', async () => {
    await client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }],
      // @ts-expect-error not an OpenAI parameter
      top_k: 4, repetition_penalty: 1.1,
    });
    expect(fake.requests[0]?.body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
  });
});
