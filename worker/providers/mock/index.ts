import { estimateTokens } from '../openai-compatible/usage.ts';
import type { CallOutcome, ProviderAdapter, ProviderAnswer, ProviderCall, UsageReport } from '../types.ts';
import { chatChunks, chatCompletion, embeddingList, textCompletion, textCompletionChunks } from './mock-format.ts';

/** What the mock answers when neither the request nor the deployment names an answer. */
export const DEFAULT_MOCK_RESPONSE = 'This is a mock response from Tollgate.';
const MOCK_BASE = 'mock://tollgate';

/**
 * The offline provider: `mock/<anything>` in config, or `mock_response` in
 * any request (as LiteLLM does). Answers without a network in OpenAI's
 * exact formats, plain and streamed, with usage estimated from the text.
 */
export const mock: ProviderAdapter = {
  id: 'mock',
  endpoints: new Set(['chat', 'completion', 'embedding']),
  async call(call: ProviderCall): Promise<ProviderAnswer> {
    const model = call.deployment.model;
    if (call.endpoint === 'embedding') {
      const list = embeddingList(model, call.body.input, call.body.encoding_format === 'base64');
      const usage = usageOf(list.usage.prompt_tokens, 0);
      return answer(JSON.stringify(list), { usage, finishedAt: Date.now() });
    }
    const text = typeof call.body.mock_response === 'string' ? call.body.mock_response : call.deployment.params.mock_response ?? DEFAULT_MOCK_RESPONSE;
    const usage = usageOf(call.promptTokenEstimate, estimateTokens(text.length));
    const id = `${call.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${crypto.randomUUID()}`;
    const outcome: CallOutcome = { usage, finishedAt: Date.now(), ...(call.keepText ? { responseText: text, finishReason: 'stop' } : {}) };
    if (!call.stream) {
      const body = call.endpoint === 'chat' ? chatCompletion(id, model, text, usage) : textCompletion(id, model, text, usage);
      return answer(JSON.stringify(body), outcome);
    }
    const events = call.endpoint === 'chat'
      ? chatChunks(id, model, text, call.clientWantsUsage ? usage : undefined)
      : textCompletionChunks(id, model, text, call.clientWantsUsage ? usage : undefined);
    // The id, `created` and model the chunks carry, as a relay keeps them (cache/streamed-answer.ts).
    const { created } = events[0] as { created: number };
    if (call.keepText) outcome.streamedAs = { id, created, model };
    const encoder = new TextEncoder();
    const lines = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const line = lines[i++];
        if (line === undefined) controller.close();
        else controller.enqueue(encoder.encode(line));
      },
    });
    return { status: 200, contentType: 'text/event-stream', body, outcome: Promise.resolve({ ...outcome, firstChunkAt: Date.now() }), apiBase: MOCK_BASE };
  },
};

function usageOf(promptTokens: number, completionTokens: number): UsageReport {
  return { promptTokens, completionTokens, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
}

function answer(body: string, outcome: CallOutcome): ProviderAnswer {
  return { status: 200, contentType: 'application/json', body, outcome: Promise.resolve(outcome), apiBase: MOCK_BASE };
}
