/** What the relayOpenAIStream suites (sse-stream.test.ts, sse-stream-kept.test.ts) share: the options, chat chunks and a chunked source. */
import type { StreamOptions } from './sse-stream.ts';

export const options: StreamOptions = { clientWantsUsage: false, usageInjected: true, promptTokenEstimate: 5, keepText: true, label: 'OpenAI', provider: 'openai' };

export const chunk = (content: string) => ({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null });
export const usageChunk = { id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12, prompt_tokens_details: { cached_tokens: 4 } } };
export const sse = [chunk('Hel'), chunk('lo "world"'), usageChunk].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';

/** Feeds `text` split into pieces of `size` bytes (mid-event, mid-UTF-8 where it falls). */
export function source(text: string, size: number, failAfter?: number): ReadableStream<Uint8Array> {
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

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}
