import { describe, expect, it } from 'vitest';
import { readJsonText, readUsage, type UsageReading, usageOf } from './usage-reader.ts';
import { tapUsage } from './usage-tap.ts';
import { concatBytes, eventFrame } from '../../test/fakes/aws-eventstream.ts';

const read = (...values: unknown[]) => {
  const reading: UsageReading = {};
  for (const v of values) readUsage(v, reading);
  return { usage: usageOf(reading), model: reading.model };
};

describe('readUsage: each provider\'s own usage shape', () => {
  it('reads an Anthropic message, cache reads and writes counted in the prompt', () => {
    expect(read({ type: 'message', model: 'claude-sonnet-4-5-20250929', usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 7 } })).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      usage: { promptTokens: 115, completionTokens: 7, cachedPromptTokens: 100, cacheCreationTokens: 5, reported: true },
    });
  });

  it('merges an Anthropic stream: input at message_start, cumulative output at message_delta', () => {
    const { usage } = read(
      { type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 25, output_tokens: 1 } } },
      { type: 'content_block_delta', delta: { type: 'text_delta', text: 'hi' } },
      { type: 'message_delta', usage: { output_tokens: 15 } },
    );
    expect(usage).toMatchObject({ promptTokens: 25, completionTokens: 15 });
  });

  it('reads OpenAI chat, Responses API and embeddings usage', () => {
    expect(read({ object: 'chat.completion', model: 'gpt-4o', usage: { prompt_tokens: 9, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } } }).usage)
      .toMatchObject({ promptTokens: 9, completionTokens: 3, cachedPromptTokens: 4 });
    expect(read({ type: 'response.completed', response: { model: 'gpt-4.1', usage: { input_tokens: 12, output_tokens: 5, input_tokens_details: { cached_tokens: 0 } } } }))
      .toMatchObject({ model: 'gpt-4.1', usage: { promptTokens: 12, completionTokens: 5 } });
    expect(read({ object: 'list', usage: { prompt_tokens: 8, total_tokens: 8 } }).usage).toMatchObject({ promptTokens: 8, completionTokens: 0 });
  });

  it('reads Gemini usageMetadata (the last of a stream wins; thinking is output)', () => {
    expect(read(
      { modelVersion: 'gemini-2.5-flash', usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1 } },
      { modelVersion: 'gemini-2.5-flash', usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 6, thoughtsTokenCount: 4, cachedContentTokenCount: 2 } },
    )).toEqual({ model: 'gemini-2.5-flash', usage: { promptTokens: 10, completionTokens: 10, cachedPromptTokens: 2, cacheCreationTokens: 0, reported: true } });
  });

  it('reads Cohere billed units and rerank searches', () => {
    expect(read({ usage: { billed_units: { input_tokens: 7, output_tokens: 2 } } }).usage).toMatchObject({ promptTokens: 7, completionTokens: 2 });
    expect(read({ results: [], meta: { billed_units: { search_units: 1 } } }).usage).toMatchObject({ searches: 1 });
  });

  it('says nothing for an answer without usage', () => {
    expect(read({ data: [{ id: 'claude-x', type: 'model' }] }).usage).toBeUndefined();
    expect(read('text', null, [1]).usage).toBeUndefined();
  });
});

async function drain(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

describe('tapUsage: the bytes pass on unchanged, the usage is read on the way', () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  const streamOf = (...chunks: string[]) => new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encode(c));
      controller.close();
    },
  });

  it('reads SSE events split anywhere across chunks, CRLF too', async () => {
    const wire = 'event: message_start\r\ndata: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":25,"output_tokens":1}}}\r\n\r\n'
      + 'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":15}}\n\ndata: [DONE]\n\n';
    const chunks = [wire.slice(0, 17), wire.slice(17, 90), wire.slice(90, 91), wire.slice(91)];
    const tapped = tapUsage(streamOf(...chunks), 'sse');
    expect(await drain(tapped.body)).toBe(wire);
    const done = await tapped.done;
    expect(done).toMatchObject({ model: 'claude-x', usage: { promptTokens: 25, completionTokens: 15 }, aborted: false, broken: false });
    expect(done.firstChunkAt).toBeTypeOf('number');
  });

  it('reads a JSON body once whole', async () => {
    const tapped = tapUsage(streamOf('{"usage":{"prompt_', 'tokens":3,"completion_tokens":2}}'), 'json');
    expect(await drain(tapped.body)).toBe('{"usage":{"prompt_tokens":3,"completion_tokens":2}}');
    expect((await tapped.done).usage).toMatchObject({ promptTokens: 3, completionTokens: 2 });
  });

  it('settles as aborted when the client stops reading, and cancels the upstream', async () => {
    let cancelled = false;
    const upstream = new ReadableStream<Uint8Array>({
      pull(controller) { controller.enqueue(encode('data: {"usage":{"prompt_tokens":1}}\n\n')); },
      cancel() { cancelled = true; },
    });
    const tapped = tapUsage(upstream, 'sse');
    const reader = tapped.body.getReader();
    await reader.read();
    await reader.cancel();
    expect(await tapped.done).toMatchObject({ aborted: true });
    expect(cancelled).toBe(true);
  });

  it('settles as broken when the upstream breaks off', async () => {
    let n = 0;
    const upstream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n++ === 0) controller.enqueue(encode('data: {"usage":{"prompt_tokens":4}}\n\n'));
        else controller.error(new Error('reset'));
      },
    });
    const tapped = tapUsage(upstream, 'sse');
    await expect(drain(tapped.body)).rejects.toThrow();
    expect(await tapped.done).toMatchObject({ broken: true, usage: { promptTokens: 4 } });
  });
});

describe('readUsage: the rarer shapes', () => {
  it('reads the whole elements of a JSON array cut short (a client gone mid-stream)', () => {
    const reading: UsageReading = {};
    readJsonText('[{"candidates":[{"content":{"parts":[{"text":"Hel}lo \\"x\\""}]}}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2}},\n{"candidates":[{"content":{"parts":[{"text":"wor', reading);
    expect(usageOf(reading)).toMatchObject({ promptTokens: 4, completionTokens: 2 });
    expect(reading.textChars).toBe(10);
  });

  it('reads NDJSON (Cohere v1 streams) line by line', () => {
    const reading: UsageReading = {};
    readJsonText('{"event_type":"text-generation","text":"Hi"}\n{"event_type":"stream-end","response":{"meta":{"billed_units":{"input_tokens":3,"output_tokens":1}}}}\n', reading);
    expect(usageOf(reading)).toMatchObject({ promptTokens: 3, completionTokens: 1 });
    expect(reading.textChars).toBe(2);
  });

  it('reads Bedrock\'s invocation metrics where the model\'s own events say nothing, and prefers the model\'s own', () => {
    expect(read({ generation: 'x', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 30 } }).usage).toMatchObject({ promptTokens: 12, completionTokens: 30 });
    expect(read(
      { type: 'message_start', message: { usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: 'message_delta', usage: { output_tokens: 9 }, 'amazon-bedrock-invocationMetrics': { inputTokenCount: 5, outputTokenCount: 9 } },
    ).usage).toMatchObject({ promptTokens: 5, completionTokens: 9 });
  });

  it('counts the text an answer carried, not its framing', () => {
    const reading: UsageReading = {};
    readUsage({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' } }] }, reading);
    readUsage({ type: 'content_block_delta', delta: { type: 'text_delta', text: ' world' } }, reading);
    expect(reading.textChars).toBe(11);
  });

  it('reads a JSON array of Gemini events (streamGenerateContent without alt=sse)', () => {
    expect(read([{ usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 } }, { usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 9 } }]).usage)
      .toMatchObject({ promptTokens: 3, completionTokens: 9 });
  });

  it('reads Cohere v1 meta tokens, a v1 stream-end and a v2 message-end', () => {
    expect(read({ text: 'hi', meta: { billed_units: { input_tokens: 11, output_tokens: 4 } } }).usage).toMatchObject({ promptTokens: 11, completionTokens: 4 });
    expect(read({ event_type: 'stream-end', response: { meta: { billed_units: { input_tokens: 6, output_tokens: 2 } } } }).usage).toMatchObject({ promptTokens: 6, completionTokens: 2 });
    expect(read({ type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: { billed_units: { input_tokens: 5, output_tokens: 8 }, tokens: { input_tokens: 70, output_tokens: 8 } } } }).usage)
      .toMatchObject({ promptTokens: 5, completionTokens: 8 });
  });
});

describe('tapUsage on AWS event streams (Bedrock)', () => {
  const streamOf = (bytes: Uint8Array, size: number) => new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });

  it('reads a ConverseStream metadata frame, frames split anywhere', async () => {
    const wire = concatBytes([
      eventFrame('messageStart', { role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Paris' } }),
      eventFrame('metadata', { usage: { inputTokens: 21, outputTokens: 9, totalTokens: 30 }, metrics: { latencyMs: 300 } }),
    ]);
    const tapped = tapUsage(streamOf(wire, 5), 'eventstream');
    expect(new Uint8Array(await new Response(tapped.body).arrayBuffer())).toEqual(wire);
    expect((await tapped.done).usage).toMatchObject({ promptTokens: 21, completionTokens: 9 });
  });

  it('reads the model\'s own events inside InvokeModel chunk frames (base64 bytes)', async () => {
    const chunk = (event: unknown) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });
    const wire = concatBytes([
      chunk({ type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 12, output_tokens: 1 } } }),
      chunk({ type: 'message_delta', usage: { output_tokens: 40 } }),
    ]);
    const tapped = tapUsage(streamOf(wire, 11), 'eventstream');
    await new Response(tapped.body).arrayBuffer();
    expect((await tapped.done).usage).toMatchObject({ promptTokens: 12, completionTokens: 40 });
  });

  it('passes bytes it cannot frame on unchanged, reading nothing', async () => {
    const junk = new Uint8Array(64).fill(7);
    const tapped = tapUsage(streamOf(junk, 9), 'eventstream');
    expect(new Uint8Array(await new Response(tapped.body).arrayBuffer())).toEqual(junk);
    expect((await tapped.done).usage).toBeUndefined();
  });
});
