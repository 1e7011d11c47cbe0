import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConverseStreamTranslator } from '../worker/providers/bedrock/converse-stream.ts';
import { checkedFrames } from '../worker/providers/bedrock/index.ts';
import { EventStreamDecoder, EventStreamError } from '../worker/providers/bedrock/eventstream.ts';
import { translateStream } from '../worker/providers/bedrock/openai-chunk-stream.ts';
import { concatBytes, exceptionFrame, fixtureFrames, frameBytes } from './fakes/aws-eventstream.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/bedrock/${name}`, import.meta.url), 'utf8')) as Parameters<typeof fixtureFrames>[0];
const textStream = concatBytes(fixtureFrames(fixture('converse-stream-text.json')));
const toolStream = concatBytes(fixtureFrames(fixture('converse-stream-tool-use.json')));

/** Feeds `bytes` to a fresh decoder in pieces of `size` bytes. */
function decodeInPieces(bytes: Uint8Array, size: number) {
  const decoder = new EventStreamDecoder();
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...decoder.push(bytes.subarray(i, i + size)));
  out.push(...decoder.end());
  return out.map((m) => ({ headers: m.headers, payload: new TextDecoder().decode(m.payload) }));
}

function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(i, i + size));
      i += size;
    },
  });
}

async function relay(bytes: Uint8Array, size: number, clientWantsUsage = true) {
  const { body, outcome } = translateStream(streamOf(bytes, size), new EventStreamDecoder(), new ConverseStreamTranslator([]), {
    model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', clientWantsUsage, promptTokenEstimate: 5, keepText: true, label: 'Bedrock', provider: 'bedrock',
  });
  const text = await new Response(body).text();
  const events = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as Record<string, unknown>);
  return { events, chunks, outcome: await outcome };
}

describe('event stream decoder', () => {
  it('decodes Bedrock frames the same whatever byte boundaries they arrive at', () => {
    const whole = decodeInPieces(textStream, textStream.length);
    expect(whole).toHaveLength(7);
    expect(whole[1]).toEqual({
      headers: { ':event-type': 'contentBlockDelta', ':content-type': 'application/json', ':message-type': 'event' },
      payload: JSON.stringify({ contentBlockIndex: 0, delta: { text: 'Paris is' }, p: 'abcdefghijklmnopqrstuvwxy' }),
    });
    for (let size = 1; size <= 64; size++) expect(decodeInPieces(textStream, size)).toEqual(whole);
  });

  it('reads every header value type of the encoding', () => {
    const headers = Buffer.concat([
      Buffer.from([4]), Buffer.from('flag'), Buffer.from([0]),
      Buffer.from([2]), Buffer.from('no'), Buffer.from([1]),
      Buffer.from([1]), Buffer.from('b'), Buffer.from([2, 0xff]),
      Buffer.from([1]), Buffer.from('s'), Buffer.from([3, 0x01, 0x00]),
      Buffer.from([1]), Buffer.from('i'), Buffer.from([4, 0, 1, 0, 0]),
      Buffer.from([1]), Buffer.from('l'), Buffer.from([5, 0, 0, 0, 1, 0, 0, 0, 0]),
      Buffer.from([1]), Buffer.from('y'), Buffer.from([6, 0, 2, 0xca, 0xfe]),
      Buffer.from([1]), Buffer.from('t'), Buffer.from([8, 0, 0, 1, 0x8c, 0xba, 0x5c, 0x1a, 0x00]),
      Buffer.from([1]), Buffer.from('u'), Buffer.from([9, ...Array.from({ length: 16 }, (_, i) => i)]),
    ]);
    const frame = frameBytes(headers, Buffer.from('{}'));
    const [message] = new EventStreamDecoder().push(frame);
    expect(message?.headers).toEqual({
      flag: true, no: false, b: -1, s: 256, i: 65536, l: 4294967296, y: new Uint8Array([0xca, 0xfe]),
      t: 0x18cba5c1a00, u: '000102030405060708090a0b0c0d0e0f',
    });
  });

  it('refuses a frame whose prelude checksum is wrong, before waiting for the rest of it', () => {
    const bad = textStream.slice();
    bad[8] = bad[8]! ^ 0xff;
    expect(() => new EventStreamDecoder().push(bad.subarray(0, 12))).toThrow(new EventStreamError('event stream prelude checksum mismatch'));
  });

  it('refuses a frame whose message checksum is wrong', () => {
    const bad = textStream.slice();
    const firstLength = new DataView(bad.buffer).getUint32(0);
    bad[firstLength - 10] = bad[firstLength - 10]! ^ 0x01; // a payload byte of the first frame
    expect(() => new EventStreamDecoder().push(bad)).toThrow(new EventStreamError('event stream message checksum mismatch'));
  });

  it('refuses a stream that ends inside a frame', () => {
    const decoder = new EventStreamDecoder();
    decoder.push(textStream.subarray(0, 30));
    expect(() => decoder.end()).toThrow(new EventStreamError('event stream ended inside a frame (30 bytes left)'));
  });
});

describe('ConverseStream → OpenAI chunks', () => {
  it('translates text, the stop reason and usage, identically at any split', async () => {
    const whole = await relay(textStream, textStream.length);
    const strip = (chunks: Record<string, unknown>[]) => chunks.map(({ choices, usage }) => ({ choices, usage }));
    expect(strip(whole.chunks)).toEqual([
      { choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: { content: 'Paris is' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: { content: ' the capital' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: { content: ' of France — ünïcode ✓.' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: undefined },
      {
        choices: [],
        usage: {
          prompt_tokens: 21, completion_tokens: 9, total_tokens: 30, prompt_tokens_details: { cached_tokens: 0 },
          cache_read_input_tokens: 0, cache_creation_input_tokens: 0,
        },
      },
    ]);
    expect(whole.events.at(-1)).toBe('[DONE]');
    expect(whole.chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'anthropic.claude-3-5-sonnet-20240620-v1:0' && c.id === whole.chunks[0]?.id)).toBe(true);
    expect(whole.outcome).toMatchObject({
      usage: { promptTokens: 21, completionTokens: 9, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true },
      responseText: 'Paris is the capital of France — ünïcode ✓.',
    });
    for (const size of [1, 2, 3, 5, 13, 64, 99]) expect(strip((await relay(textStream, size)).chunks)).toEqual(strip(whole.chunks));
  });

  it('streams tool calls in order, numbered as OpenAI numbers them', async () => {
    const { chunks } = await relay(toolStream, 11, false);
    const deltas = chunks.map((c) => (c.choices as { delta: unknown; finish_reason: unknown }[])[0]);
    expect(deltas).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'Checking both.' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { tool_calls: [{ index: 0, id: 'tooluse_weather01', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, logprobs: null, finish_reason: null },
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] }, logprobs: null, finish_reason: null },
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, logprobs: null, finish_reason: null },
      { index: 0, delta: { tool_calls: [{ index: 1, id: 'tooluse_time02', type: 'function', function: { name: 'get_time', arguments: '' } }] }, logprobs: null, finish_reason: null },
      { index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{"zone": "CET"}' } }] }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' },
    ]);
  });

  it('ends with an error event when Bedrock sends an exception mid-stream', async () => {
    const frames = fixtureFrames(fixture('converse-stream-text.json')).slice(0, 3);
    frames.push(exceptionFrame('throttlingException', 'Too many tokens, please wait before trying again.'));
    const { events, outcome } = await relay(concatBytes(frames), 5);
    expect(JSON.parse(events.at(-1)!)).toEqual({
      error: { message: 'litellm.RateLimitError: BedrockException - Too many tokens, please wait before trying again.', type: 'rate_limit_error', param: null, code: '429' },
    });
    expect(events).not.toContain('[DONE]');
    expect(outcome.error?.status).toBe(429);
    expect(outcome.usage.reported).toBe(false);
  });

  it('ends with an error event when a frame fails its checksum', async () => {
    const bytes = textStream.slice();
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x55;
    const { body, outcome } = translateStream(streamOf(bytes, 9), checkedFrames(), new ConverseStreamTranslator([]), {
      model: 'm', clientWantsUsage: false, promptTokenEstimate: 5, keepText: false, label: 'Bedrock', provider: 'bedrock',
    });
    const text = await new Response(body).text();
    expect(text).toContain('"content":" of France — ünïcode ✓."');
    expect(text.trim().split('\n\n').at(-1)).toBe(`data: ${JSON.stringify({
      error: { message: 'litellm.APIError: BedrockException - unexpected answer from the provider: event stream message checksum mismatch', type: 'api_error', param: null, code: '502' },
    })}`);
    expect((await outcome).error?.status).toBe(502);
  });

  it('cancels the upstream read when the client goes away', async () => {
    let cancelled = false;
    let i = 0;
    const frames = fixtureFrames(fixture('converse-stream-text.json'));
    const upstream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < 2) controller.enqueue(frames[i++]!);
      },
      cancel() {
        cancelled = true;
      },
    });
    const { body, outcome } = translateStream(upstream, new EventStreamDecoder(), new ConverseStreamTranslator([]), {
      model: 'm', clientWantsUsage: false, promptTokenEstimate: 5, keepText: false, label: 'Bedrock', provider: 'bedrock',
    });
    const reader = body.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(cancelled).toBe(true);
    expect(await outcome).toMatchObject({ aborted: true, usage: { promptTokens: 5, completionTokens: 2, reported: false } });
  });
});
