/**
 * An answer made of tool calls, as the callbacks and the spend log see it: an agent's turn that calls tools must
 * show which tools it called and with what arguments (Langfuse's output, the spend log's `response`), whether the
 * answer came whole or as a stream of deltas, and nothing of them when message logging is off. A Responses API
 * answer is logged as its `output` items, as LiteLLM logs `response.output`, with or without tool calls. A reasoning
 * model's thinking is logged as the message's `reasoning_content`, as LiteLLM logs it.
 */
import { describe, expect, it } from 'vitest';
import { openaiChatChunks, openaiChatCompletion } from './fakes/openai-format.ts';
import { responseObject, responseStreamEvents, responsesUsage } from './fakes/openai-responses.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { useLangfuseStack } from './support/langfuse-stack.ts';

const l = useLangfuseStack();
const { generation, trace } = l;

const weather = [
  { id: 'call_sf', name: 'get_weather', arguments: '{"location":"San Francisco","unit":"celsius"}' },
  { id: 'call_nyc', name: 'get_time', arguments: '{"zone":"America/New_York"}' },
];
const expectedCalls = weather.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
const tools = ['get_weather', 'get_time'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } }));
const messages = [{ role: 'user' as const, content: 'weather in SF and the time in NYC?' }];

async function storedResponse(callId: string): Promise<{ choices: { message: Record<string, unknown> }[] }> {
  const row = await eventually(() => spendLogRow(l.stack.db.url, callId));
  return row.response as { choices: { message: Record<string, unknown> }[] };
}

describe('an answer that calls tools', () => {
  it('is logged with its tool calls: Langfuse output and the spend log response', async () => {
    l.upstream.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'gpt-4o', content: null, promptTokens: 30, completionTokens: 12, toolCalls: weather }) });
    const { data, response } = await l.client.chat.completions.create({ model: 'gpt-4o', messages, tools }).withResponse();
    expect(data.choices[0]?.message.tool_calls).toEqual(expectedCalls);
    const callId = response.headers.get('x-litellm-call-id') ?? '';

    const output = { role: 'assistant', content: null, tool_calls: expectedCalls };
    expect((await generation(l.langfuse, callId)).output).toEqual(output);
    expect((await trace(l.langfuse, callId)).output).toEqual(output);
    expect((await storedResponse(callId)).choices[0]?.message).toMatchObject({ role: 'assistant', tool_calls: expectedCalls });
  });

  it('streamed as deltas: the calls joined back into whole calls, the client\'s stream unchanged', async () => {
    l.upstream.enqueue({ kind: 'sse', events: [...openaiChatChunks({ model: 'gpt-4o', pieces: ['Checking.'], promptTokens: 30, completionTokens: 12, includeUsage: true, toolCalls: weather, argumentPieces: 3 }), '[DONE]'] });
    const stream = await l.client.chat.completions.create({ model: 'gpt-4o', messages, tools, stream: true }).withResponse();
    const callId = stream.response.headers.get('x-litellm-call-id') ?? '';
    let text = '';
    const args: string[] = [];
    for await (const chunk of stream.data) {
      text += chunk.choices[0]?.delta.content ?? '';
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
    }
    expect(text).toBe('Checking.');
    expect(args).toEqual(weather.map((c) => c.arguments));

    const gen = await generation(l.langfuse, callId);
    expect(gen.output).toEqual({ role: 'assistant', content: 'Checking.', tool_calls: expectedCalls });
    expect((await storedResponse(callId)).choices[0]?.message).toMatchObject({ content: 'Checking.', tool_calls: expectedCalls });
  });

  it('with message logging off, no tool name or argument reaches Langfuse', async () => {
    l.upstream.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'gpt-4o', content: null, promptTokens: 30, completionTokens: 12, toolCalls: weather }) });
    const { response } = await l.client.chat.completions.create({ model: 'gpt-4o', messages }, { headers: { 'x-litellm-enable-message-redaction': 'true' } }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const gen = await generation(l.langfuse, callId);
    expect(gen.output).toMatchObject({ role: 'assistant', content: 'redacted-by-litellm' });
    const sent = JSON.stringify(l.langfuse.events.filter((e) => e.body.id === callId || (e.body as { traceId?: string }).traceId === callId));
    expect(sent).not.toMatch(/get_weather|get_time|San Francisco|America\/New_York/);
  });
});

describe('a Responses API answer', () => {
  const said = (text: string) => [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }];

  it('is logged as its output items, whole or streamed (the text from the stream\'s events)', async () => {
    l.upstream.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'It is sunny in Paris.', responsesUsage(12, 6)) });
    const { response } = await l.client.responses.create({ model: 'gpt-4o', input: 'weather in Paris?' }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    expect((await generation(l.langfuse, callId)).output).toEqual(said('It is sunny in Paris.'));
    expect((await trace(l.langfuse, callId)).output).toEqual(said('It is sunny in Paris.'));

    l.upstream.enqueue({ kind: 'sse', events: responseStreamEvents('gpt-4o', ['It is ', 'raining ', 'in Oslo.'], responsesUsage(12, 6)) });
    const stream = await l.client.responses.create({ model: 'gpt-4o', input: 'weather in Oslo?', stream: true }).withResponse();
    const streamId = stream.response.headers.get('x-litellm-call-id') ?? '';
    for await (const event of stream.data) void event;
    expect((await generation(l.langfuse, streamId)).output).toEqual(said('It is raining in Oslo.'));
  });

  it('with its tool calls as function_call items after the message; nothing of them with message logging off', async () => {
    const answer = responseObject('gpt-4o', 'Looking.', responsesUsage(12, 6));
    const items = weather.map((c) => ({ type: 'function_call', id: `fc_${c.id}`, call_id: c.id, name: c.name, arguments: c.arguments, status: 'completed' }));
    l.upstream.enqueue({ kind: 'json', body: { ...answer, output: [...answer.output, ...items] } });
    const { response } = await l.client.responses.create({ model: 'gpt-4o', input: 'weather in SF and the time in NYC?' }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    expect((await generation(l.langfuse, callId)).output).toEqual([
      ...said('Looking.'),
      ...weather.map((c) => ({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.arguments })),
    ]);

    l.upstream.enqueue({ kind: 'json', body: { ...answer, output: [...answer.output, ...items] } });
    const redacted = await l.client.responses.create({ model: 'gpt-4o', input: 'weather?' }, { headers: { 'x-litellm-enable-message-redaction': 'true' } }).withResponse();
    const redactedId = redacted.response.headers.get('x-litellm-call-id') ?? '';
    expect((await generation(l.langfuse, redactedId)).output).toEqual(said('redacted-by-litellm'));
    const sent = JSON.stringify(l.langfuse.events.filter((e) => e.body.id === redactedId || (e.body as { traceId?: string }).traceId === redactedId));
    expect(sent).not.toMatch(/get_weather|get_time|San Francisco|America\/New_York|Looking\./);
  });
});

describe('an answer with reasoning', () => {
  const thinking = 'The user wants 2+2. That is four.';
  const said = { role: 'assistant', content: 'The answer is 4.', reasoning_content: thinking };
  const ask = [{ role: 'user' as const, content: 'what is 2+2?' }];

  it('is logged with its reasoning_content beside the text, whole or streamed, as LiteLLM logs the message', async () => {
    l.upstream.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'deepseek-reasoner', content: 'The answer is 4.', reasoningContent: thinking, promptTokens: 12, completionTokens: 30, reasoningTokens: 21 }) });
    const { response } = await l.client.chat.completions.create({ model: 'gpt-4o', messages: ask }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    expect((await generation(l.langfuse, callId)).output).toEqual(said);
    expect((await trace(l.langfuse, callId)).output).toEqual(said);

    const pieces = ['The user wants 2+2. ', 'That is four.'];
    l.upstream.enqueue({ kind: 'sse', events: [...openaiChatChunks({ model: 'deepseek-reasoner', reasoningPieces: pieces, pieces: ['The answer ', 'is 4.'], promptTokens: 12, completionTokens: 30, includeUsage: true }), '[DONE]'] });
    const stream = await l.client.chat.completions.create({ model: 'gpt-4o', messages: ask, stream: true }).withResponse();
    const streamId = stream.response.headers.get('x-litellm-call-id') ?? '';
    for await (const chunk of stream.data) void chunk;
    expect((await generation(l.langfuse, streamId)).output).toEqual(said);

    // A stream with what its kept answer leaves out (logprobs: it is not cached) still logs its reasoning.
    const withLogprobs = openaiChatChunks({ model: 'deepseek-reasoner', reasoningPieces: pieces, pieces: ['The answer ', 'is 4.'], promptTokens: 12, completionTokens: 30, includeUsage: false })
      .map((c) => {
        const choice = (c.choices as Record<string, unknown>[])[0];
        const content = (choice?.delta as { content?: unknown } | undefined)?.content;
        if (choice && typeof content === 'string' && content) choice.logprobs = { content: [{ token: content, logprob: -0.1, bytes: [], top_logprobs: [] }], refusal: null };
        return c;
      });
    l.upstream.enqueue({ kind: 'sse', events: [...withLogprobs, '[DONE]'] });
    const probed = await l.client.chat.completions.create({ model: 'gpt-4o', messages: ask, stream: true, logprobs: true }).withResponse();
    for await (const chunk of probed.data) void chunk;
    expect((await generation(l.langfuse, probed.response.headers.get('x-litellm-call-id') ?? '')).output).toEqual(said);
  });

  it('with turn_off_message_logging, nothing of the reasoning reaches Langfuse, whole or streamed', async () => {
    const off = { turn_off_message_logging: true } as Record<string, unknown>;
    l.upstream.enqueue({ kind: 'json', body: openaiChatCompletion({ model: 'deepseek-reasoner', content: 'The answer is 4.', reasoningContent: thinking, promptTokens: 12, completionTokens: 30 }) });
    const { response } = await l.client.chat.completions.create({ model: 'gpt-4o', messages: ask, ...off }).withResponse();
    l.upstream.enqueue({ kind: 'sse', events: [...openaiChatChunks({ model: 'deepseek-reasoner', reasoningPieces: [thinking], pieces: ['The answer is 4.'], promptTokens: 12, completionTokens: 30, includeUsage: false }), '[DONE]'] });
    const stream = await l.client.chat.completions.create({ model: 'gpt-4o', messages: ask, stream: true, ...off }).withResponse();
    for await (const chunk of stream.data) void chunk;
    for (const callId of [response.headers.get('x-litellm-call-id') ?? '', stream.response.headers.get('x-litellm-call-id') ?? '']) {
      expect((await generation(l.langfuse, callId)).output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
      const sent = JSON.stringify(l.langfuse.events.filter((e) => e.body.id === callId || (e.body as { traceId?: string }).traceId === callId));
      expect(sent).not.toMatch(/2\+2|four|reasoning_content/);
    }
  });
});
