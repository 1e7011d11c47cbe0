import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sseEvent } from './fakes/anthropic.ts';
import { openaiChatChunks } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// A streamed answer that calls tools, cached as LiteLLM caches it (the in-isolate cache, as cache-local.test.ts).
let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-fake}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-fake}
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

const tools = [
  { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
  { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];
const weather = { id: 'call_weather01', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } };
const time = { id: 'call_time02', type: 'function', function: { name: 'get_time', arguments: '{"zone": "CET"}' } };

/** OpenAI's chunks for an answer of tool calls: each call's id and name, its arguments in pieces, the finish reason (tool_calls), usage. */
function toolCallStream(calls: { id: string; function: { name: string; arguments: string } }[], pieces = 2, finishReason?: 'length'): unknown[] {
  const toolCalls = calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
  return [...openaiChatChunks({ model: 'gpt-4o-2024-08-06', id: 'chatcmpl-tools', created: 1_700_000_000, pieces: [], promptTokens: 40, completionTokens: 22, includeUsage: true, toolCalls, argumentPieces: pieces, finishReason }), '[DONE]'];
}

/** Anthropic's stream of a Claude answer that thought (signed) and then called get_weather. */
function claudeThinkingToolStream(): string[] {
  const events = [
    { type: 'message_start', message: { id: 'msg_think_tool', type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5-20250929', stop_reason: null, stop_sequence: null, usage: { input_tokens: 40, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The user wants the weather.' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIMsigned' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_weather', name: 'get_weather', input: {} } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "Paris"}' } },
    { type: 'content_block_stop', index: 1 },
    { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } },
    { type: 'message_stop' },
  ];
  return events.map(sseEvent);
}

/** A streamed chat request with the tools, its calls joined as a client joins them, its finish reason and its response. */
async function streamedCalls(content: string, model = 'gpt-4o') {
  const { data: stream, response } = await client.chat.completions.create({ model, stream: true, tools, messages: [{ role: 'user', content }] }).withResponse();
  const calls: { id?: string; type?: string; function: { name: string; arguments: string } }[] = [];
  let finish: string | null = null;
  let text = '';
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    finish = choice.finish_reason ?? finish;
    for (const delta of choice.delta.tool_calls ?? []) {
      const call = (calls[delta.index] ??= { function: { name: '', arguments: '' } });
      if (delta.id) call.id = delta.id;
      if (delta.type) call.type = delta.type;
      call.function.name += delta.function?.name ?? '';
      call.function.arguments += delta.function?.arguments ?? '';
    }
  }
  return { calls, finish, text, response };
}

describe('a streamed answer that calls tools, in the response cache', () => {
  it('is stored with its calls, and replayed (stream and plain) with the same ids, names and arguments', async () => {
    fake.enqueue({ kind: 'sse', events: toolCallStream([weather, time]) });
    const first = await streamedCalls('weather and time in Paris');
    expect(first.calls).toEqual([weather, time]);
    expect(first.finish).toBe('tool_calls');
    expect(first.response.headers.get('x-litellm-cache-key')).toBeNull();
    // The answer is stored once the stream is settled.
    await new Promise((r) => setTimeout(r, 150));

    const replayed = await streamedCalls('weather and time in Paris');
    expect(replayed.response.headers.get('x-litellm-cache-key')).toMatch(/^tollgate:[0-9a-f]{64}$/);
    expect(replayed.calls).toEqual([weather, time]);
    expect(replayed.finish).toBe('tool_calls');
    expect(replayed.text).toBe('');

    const plain = await client.chat.completions.create({ model: 'gpt-4o', tools, messages: [{ role: 'user', content: 'weather and time in Paris' }] }).withResponse();
    expect(plain.response.headers.get('x-litellm-cache-key')).toBe(replayed.response.headers.get('x-litellm-cache-key'));
    expect(plain.data.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [weather, time] } });
    // The answer the first client got: its id, created and model.
    expect(plain.data).toMatchObject({ id: 'chatcmpl-tools', created: 1_700_000_000, model: 'gpt-4o-2024-08-06' });
    expect(plain.data.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 22 });
    expect(fake.requests).toHaveLength(1);
    const row = await eventually(() => spendLogRow(stack.db.url, plain.response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ cache_hit: true, spend: 0 });
  });

  it('is not stored when a call\'s arguments were past what the gateway keeps (64 K characters): the next request goes upstream', async () => {
    const huge = { ...weather, function: { name: 'get_weather', arguments: JSON.stringify({ city: 'x'.repeat(70_000) }) } };
    fake.enqueue({ kind: 'sse', events: toolCallStream([huge], 8) }, { kind: 'sse', events: toolCallStream([huge], 8) });
    const first = await streamedCalls('a very long call');
    expect(first.calls).toEqual([huge]);
    await new Promise((r) => setTimeout(r, 150));
    const again = await streamedCalls('a very long call');
    expect(again.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(again.calls).toEqual([huge]);
    expect(fake.requests).toHaveLength(2);
  });

  it('is not stored when it is a legacy function_call (no tool call id to replay)', async () => {
    const chunk = (delta: unknown, finish: string | null = null) => ({ id: 'chatcmpl-fn', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });
    const legacy = [chunk({ role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '' } }), chunk({ function_call: { arguments: '{"city":"Rome"}' } }), chunk({}, 'stop'), '[DONE]'];
    fake.enqueue({ kind: 'sse', events: legacy }, { kind: 'sse', events: legacy });
    await streamedCalls('legacy function');
    await new Promise((r) => setTimeout(r, 150));
    const again = await streamedCalls('legacy function');
    expect(again.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('is stored as stop when a TGI-style server finished with eos; not stored when the answer was a refusal', async () => {
    const chunk = (delta: unknown, finish: string | null = null) => ({ id: 'chatcmpl-tgi', object: 'chat.completion.chunk', created: 1, model: 'tgi', choices: [{ index: 0, delta, finish_reason: finish }] });
    fake.enqueue({ kind: 'sse', events: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Sunny.' }), chunk({}, 'eos'), '[DONE]'] });
    await streamedCalls('tgi weather');
    await new Promise((r) => setTimeout(r, 150));
    const replayed = await streamedCalls('tgi weather');
    expect(replayed.response.headers.get('x-litellm-cache-key')).toMatch(/^tollgate:/);
    expect(replayed).toMatchObject({ text: 'Sunny.', finish: 'stop' });

    const refusal = [chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: "I'm sorry, I can't help with that." }), chunk({}, 'stop'), '[DONE]'];
    fake.enqueue({ kind: 'sse', events: refusal }, { kind: 'sse', events: refusal });
    await streamedCalls('refused');
    await new Promise((r) => setTimeout(r, 150));
    expect((await streamedCalls('refused')).response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(fake.requests).toHaveLength(3);
  });

  it('is not stored when it was cut at max_tokens right after a call\'s id and name (finish_reason length)', async () => {
    const cut = toolCallStream([{ ...weather, function: { name: 'get_weather', arguments: '' } }], 1, 'length');
    fake.enqueue({ kind: 'sse', events: cut }, { kind: 'sse', events: cut });
    const first = await streamedCalls('cut short');
    expect(first.finish).toBe('length');
    await new Promise((r) => setTimeout(r, 150));
    const again = await streamedCalls('cut short');
    expect(again.response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('is not stored when the stream ended without a finish reason', async () => {
    const unfinished = toolCallStream([weather]).filter((e) => !(typeof e === 'object' && JSON.stringify(e).includes('"finish_reason":"')));
    fake.enqueue({ kind: 'sse', events: unfinished }, { kind: 'sse', events: unfinished });
    await streamedCalls('no finish');
    await new Promise((r) => setTimeout(r, 150));
    expect((await streamedCalls('no finish')).response.headers.get('x-litellm-cache-key')).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('is not stored when it answered more than one choice (n: 2)', async () => {
    const chunk = (index: number, delta: unknown, finish: string | null = null) => ({ id: 'chatcmpl-n2', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index, delta, logprobs: null, finish_reason: finish }] });
    const two = [chunk(0, { role: 'assistant', content: 'Sunny' }), chunk(1, { role: 'assistant', content: 'Rainy' }), chunk(0, {}, 'stop'), chunk(1, {}, 'stop'), '[DONE]'];
    fake.enqueue({ kind: 'sse', events: two }, { kind: 'sse', events: two });
    const ask = async () => {
      const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', n: 2, stream: true, messages: [{ role: 'user', content: 'two answers' }] }).withResponse();
      for await (const _ of data) { /* drain */ }
      return response;
    };
    await ask();
    await new Promise((r) => setTimeout(r, 150));
    expect((await ask()).headers.get('x-litellm-cache-key')).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('is stored when a Claude answer thought before calling with its thinking signed (it must go back with the tool results), and replayed with it', async () => {
    fake.enqueue({ kind: 'sse', events: claudeThinkingToolStream() });
    const first = await streamedCalls('think, then call', 'claude');
    expect(first.calls).toEqual([{ id: 'toolu_weather', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }]);
    expect(first.finish).toBe('tool_calls');
    await new Promise((r) => setTimeout(r, 150));
    const plain = await client.chat.completions.create({ model: 'claude', stream: false, tools, messages: [{ role: 'user', content: 'think, then call' }] }).withResponse();
    expect(plain.response.headers.get('x-litellm-cache-key')).toMatch(/^tollgate:/);
    expect(plain.data.choices[0]!.message).toMatchObject({
      content: null, tool_calls: first.calls, reasoning_content: 'The user wants the weather.',
      thinking_blocks: [{ type: 'thinking', thinking: 'The user wants the weather.', signature: 'EqQBCgIYAhIMsigned' }],
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('is stored from a Claude stream that called tools without thinking, and replayed with its calls', async () => {
    const plainCall = claudeThinkingToolStream().filter((e) => !e.includes('"thinking') && !e.includes('signature'));
    fake.enqueue({ kind: 'sse', events: plainCall });
    const first = await streamedCalls('just call', 'claude');
    await new Promise((r) => setTimeout(r, 150));
    const again = await streamedCalls('just call', 'claude');
    expect(again.response.headers.get('x-litellm-cache-key')).toMatch(/^tollgate:/);
    expect(again.calls).toEqual(first.calls);
    expect(again.finish).toBe('tool_calls');
    expect(fake.requests).toHaveLength(1);
  });
});
