import { describe, expect, it } from 'vitest';
import { relayOpenAIStream } from './sse-stream.ts';
import { chunk, options, readAll, source, sse } from './sse-stream.fixture.ts';

describe('relayOpenAIStream', () => {
  it.each([1, 7, 64, 10_000])('relays the same events whatever the chunking (%i bytes)', async (size) => {
    const { body, outcome } = relayOpenAIStream(source(sse, size), options);
    const text = await readAll(body);
    expect(text).toBe([chunk('Hel'), chunk('lo "world"')].map((c) => {
      const { usage: _, ...rest } = c;
      return `data: ${JSON.stringify(rest)}\n\n`;
    }).join('') + 'data: [DONE]\n\n');
    const result = await outcome;
    expect(result.usage).toEqual({ promptTokens: 9, completionTokens: 3, cachedPromptTokens: 4, cacheCreationTokens: 0, reported: true });
    expect(result.responseText).toBe('Hello "world"');
    expect(result.error).toBeUndefined();
  });

  it('keeps the usage chunk for a client that asked for it', async () => {
    const { body } = relayOpenAIStream(source(sse, 50), { ...options, clientWantsUsage: true });
    expect(await readAll(body)).toBe(sse);
  });

  it('ends a broken upstream with an error event and estimated usage', async () => {
    const { body, outcome } = relayOpenAIStream(source(sse, 40, 80), options);
    const text = await readAll(body);
    expect(text).toMatch(/data: \{"error":\{"message":"litellm\.APIConnectionError: OpenAIException - the upstream stream ended unexpectedly","type":"api_connection_error","param":null,"code":"502"\}\}\n\n$/);
    const result = await outcome;
    expect(result.error?.status).toBe(502);
    expect(result.usage.reported).toBe(false);
    expect(result.usage.promptTokens).toBe(5);
  });

  it('settles as aborted when the client cancels, and cancels the upstream', async () => {
    let cancelled = false;
    const upstream = new ReadableStream<Uint8Array>({
      start(controller) { controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(chunk('partial answer'))}\n\n`)); },
      cancel() { cancelled = true; },
    });
    const { body, outcome } = relayOpenAIStream(upstream, options);
    const reader = body.getReader();
    await reader.read();
    await reader.cancel('client went away');
    const result = await outcome;
    expect(cancelled).toBe(true);
    expect(result.aborted).toBe(true);
    expect(result.usage).toMatchObject({ reported: false, completionTokens: 4 });
  });
});
