import { describe, expect, it } from 'vitest';
import { type ChunkDelta, type StreamDecoder, type StreamTranslator, translateStream } from './openai-chunk-stream.ts';

// A provider's events stood in for: each is already the deltas it translates to (as Bedrock's and Gemini's translators emit them).
const decoder = (): StreamDecoder<ChunkDelta[]> => ({ push: (bytes) => [JSON.parse(new TextDecoder().decode(bytes)) as ChunkDelta[]], end: () => [] });
const translator: StreamTranslator<ChunkDelta[]> = { event: (deltas) => deltas, end: () => [], usage: () => undefined };
const options = { model: 'm', clientWantsUsage: false, promptTokenEstimate: 3, keepText: true, label: 'Bedrock', provider: 'bedrock' };

function upstream(events: ChunkDelta[][]): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(c) { for (const e of events) c.enqueue(new TextEncoder().encode(JSON.stringify(e))); c.close(); } });
}
const tool = (index: number, fn: { name?: string; arguments?: string }, id?: string): ChunkDelta[] => [
  { index: 0, delta: { tool_calls: [{ index, ...(id ? { id, type: 'function' as const } : {}), function: fn }] }, finish_reason: null },
];
const events = [
  [{ index: 0, delta: { role: 'assistant' as const, content: 'Let me look.' }, finish_reason: null }],
  tool(0, { name: 'get_weather', arguments: '' }, 'tooluse_a'),
  tool(0, { arguments: '{"city":' }),
  tool(1, { name: 'get_time', arguments: '{}' }, 'tooluse_b'),
  tool(0, { arguments: '"Lima"}' }),
  [{ index: 0, delta: {}, finish_reason: 'tool_calls' as const }],
];

describe('translateStream', () => {
  it('keeps the tool calls it sent, their deltas joined by index', async () => {
    const { body, outcome } = translateStream(upstream(events), decoder(), translator, options);
    await new Response(body).text();
    const result = await outcome;
    expect(result.responseText).toBe('Let me look.');
    expect(result.responseToolCalls).toEqual([
      { id: 'tooluse_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lima"}' } },
      { id: 'tooluse_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(result.toolCalls).toBe(true);
  });

  it('says the first choice\'s finish reason and the id its chunks carried; keeps reasoning, marks it past the cap and a second choice', async () => {
    const settled = async (deltas: ChunkDelta[][]) => {
      const { body, outcome } = translateStream(upstream(deltas), decoder(), translator, options);
      const text = await new Response(body).text();
      return { text, result: await outcome };
    };
    const { text, result } = await settled(events);
    expect(result).toMatchObject({ finishReason: 'tool_calls', streamedAs: { model: 'm' } });
    expect(result.partsLeftOut).toBeUndefined();
    expect(text).toContain(`"id":"${result.streamedAs!.id}","object":"chat.completion.chunk","created":${result.streamedAs!.created}`);
    // Ended without a finish reason (Gemini's end() owes none).
    expect((await settled(events.slice(0, -1))).result.finishReason).toBeUndefined();
    const thought = await settled([[{ index: 0, delta: { reasoning_content: 'hm' }, finish_reason: null }], [{ index: 0, delta: { reasoning_content: 'm' }, finish_reason: null }], ...events]);
    expect(thought.result.responseReasoning).toEqual({ reasoning_content: 'hmm' });
    expect(thought.result.partsLeftOut).toBeUndefined();
    const long = await settled([...Array.from({ length: 5 }, () => [{ index: 0, delta: { reasoning_content: 'x'.repeat(60 * 1024) }, finish_reason: null }]), ...events]);
    expect(long.result).toMatchObject({ partsLeftOut: true, finishReason: 'tool_calls' });
    expect(long.result.responseReasoning).toBeUndefined();
    const two = await settled([...events, [{ index: 1, delta: { content: 'other' }, finish_reason: 'stop' }]]);
    expect(two.result).toMatchObject({ partsLeftOut: true, finishReason: 'tool_calls' });
  });

  it('keeps the reasoning tokens the provider reported apart (Gemini\'s thoughts) in the usage of a kept answer', async () => {
    const usage = { promptTokens: 5, completionTokens: 20, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
    const counted = { ...translator, usage: () => usage, usageExtras: () => ({ reasoningTokens: 12 }) };
    const run = async (keepText: boolean) => {
      const { body, outcome } = translateStream(upstream(events), decoder(), counted, { ...options, keepText });
      await new Response(body).text();
      return (await outcome).usage;
    };
    expect(await run(true)).toEqual({ ...usage, reasoningTokens: 12 });
    expect(await run(false)).toEqual(usage);
  });

  it('keeps none when the call does not keep text', async () => {
    const { body, outcome } = translateStream(upstream(events), decoder(), translator, { ...options, keepText: false });
    await new Response(body).text();
    const result = await outcome;
    expect(result.responseText).toBeUndefined();
    expect(result.responseToolCalls).toBeUndefined();
  });
});
