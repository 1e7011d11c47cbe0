import { describe, expect, it } from 'vitest';
import { fixtureSse } from '../../../test/fakes/anthropic.ts';
import { GatewayError } from '../../errors.ts';
import { type AnthropicStreamOptions, openAnthropicStream } from './sse-stream.ts';

const options: AnthropicStreamOptions = { clientWantsUsage: false, jsonMode: false, created: 1_700_000_000, secrets: [], promptTokenEstimate: 7, keepText: true };

/** Feeds `text` in pieces of `size` bytes (mid-event, mid-UTF-8 where it falls); optionally fails after `failAfter` bytes. */
function source(text: string, size: number, failAfter?: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && offset >= failAfter) return controller.error(new Error('socket closed'));
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

describe('openAnthropicStream', () => {
  it.each([1, 13, 10_000])('relays the whole answer and its usage (%i-byte reads)', async (size) => {
    const { body, outcome } = await openAnthropicStream(source(fixtureSse('tool-use'), size), options);
    const text = await new Response(body).text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).toContain('"finish_reason":"tool_calls"');
    const result = await outcome;
    expect(result.usage).toEqual({ promptTokens: 472 + 2000 + 100, completionTokens: 89, cachedPromptTokens: 2000, cacheCreationTokens: 100, reported: true });
    // The text apart from the tool calls, which are kept whole (their input joined from its deltas), as the client got them.
    expect(result.responseText).toBe('Okay, let\'s check both cities.');
    expect(result.responseToolCalls).toEqual([
      { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '{"location": "San Francisco, CA"}' } },
      { id: 'toolu_01V2y2gK45rBnl3uOsSoO8Vq7', type: 'function', function: { name: 'get_weather', arguments: '{"location": "New York, NY"}' } },
    ]);
    expect(result.toolCalls).toBe(true);
    expect(result.firstChunkAt).toBeGreaterThan(0);
    expect(result.error).toBeUndefined();
  });

  it('says how the answer finished and what it was called, and keeps signed thinking as the non-streamed answer carries it', async () => {
    const called = await openAnthropicStream(source(fixtureSse('tool-use'), 64), options);
    await new Response(called.body).text();
    const tools = await called.outcome;
    expect(tools).toMatchObject({ finishReason: 'tool_calls', streamedAs: { created: 1_700_000_000, model: expect.stringContaining('claude') } });
    expect(tools.partsLeftOut).toBeUndefined();

    const { body, outcome } = await openAnthropicStream(source(fixtureSse('thinking'), 64), options);
    expect(await new Response(body).text()).toContain('"signature":"EqQB');
    const thought = await outcome;
    expect(thought).toMatchObject({ responseText: '12,231', finishReason: 'stop', streamedAs: { id: 'msg_01Think3z', model: 'claude-sonnet-4-5-20250929' } });
    expect(thought.responseReasoning).toEqual({
      reasoning_content: '27 * 453 = 12231',
      thinking_blocks: [{ type: 'thinking', thinking: '27 * 453 = 12231', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' }],
    });
    expect(thought.partsLeftOut).toBeUndefined();
  });

  it('keeps signed thinking, for the logs, beside what it leaves out (the stop sequence that ended it)', async () => {
    const stopped = fixtureSse('thinking').replace('"stop_reason": "end_turn", "stop_sequence": null', '"stop_reason": "stop_sequence", "stop_sequence": "###"');
    const { body, outcome } = await openAnthropicStream(source(stopped, 64), options);
    await new Response(body).text();
    expect(await outcome).toMatchObject({ partsLeftOut: true, responseReasoning: { reasoning_content: '27 * 453 = 12231' } });
  });

  it('marks thinking it cannot keep whole (its signature never came) and keeps none of it', async () => {
    const unsigned = fixtureSse('thinking').split('\n\n').filter((e) => !e.includes('signature_delta')).join('\n\n');
    const { body, outcome } = await openAnthropicStream(source(unsigned, 64), options);
    await new Response(body).text();
    const result = await outcome;
    expect(result).toMatchObject({ responseText: '12,231', partsLeftOut: true });
    expect(result.responseReasoning).toBeUndefined();
  });

  it('keeps neither text nor tool calls when the call does not keep text', async () => {
    const { body, outcome } = await openAnthropicStream(source(fixtureSse('tool-use'), 13), { ...options, keepText: false });
    await new Response(body).text();
    const result = await outcome;
    expect(result.responseText).toBeUndefined();
    expect(result.responseToolCalls).toBeUndefined();
  });

  it('throws an error event that comes first as the call\'s error, with its status', async () => {
    const error = await openAnthropicStream(source(fixtureSse('overloaded-first'), 5), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 529, retryable: true, message: 'litellm.InternalServerError: AnthropicException - Overloaded' });
  });

  it('ends a broken upstream with an error event and counts what it saw', async () => {
    const sse = fixtureSse('text');
    const { body, outcome } = await openAnthropicStream(source(sse, 40, sse.indexOf('event: message_delta')), options);
    const text = await new Response(body).text();
    expect(text).toMatch(/data: \{"error":\{"message":"litellm\.APIConnectionError: AnthropicException - the upstream stream ended unexpectedly","type":"api_connection_error","param":null,"code":"502"\}\}\n\n$/);
    const result = await outcome;
    expect(result.error?.status).toBe(502);
    // Input tokens are known from message_start; the output is estimated from the text seen.
    expect(result.usage).toMatchObject({ promptTokens: 25, completionTokens: 4, reported: false });
  });

  it('settles as aborted when the client cancels, and cancels the upstream', async () => {
    let cancelled = false;
    const first = fixtureSse('text').split('event: content_block_stop')[0] ?? '';
    const upstream = new ReadableStream<Uint8Array>({
      start(controller) { controller.enqueue(new TextEncoder().encode(first)); },
      cancel() { cancelled = true; },
    });
    const { body, outcome } = await openAnthropicStream(upstream, options);
    const reader = body.getReader();
    await reader.read();
    await reader.cancel('client went away');
    const result = await outcome;
    expect(cancelled).toBe(true);
    expect(result.aborted).toBe(true);
    expect(result.usage.reported).toBe(false);
  });
});
