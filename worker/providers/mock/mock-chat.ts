import type { ChatRequest, Usage } from '../../openai/chat-request.ts';
import { estimateTokens, messageText } from './estimate-tokens.ts';

/**
 * The offline provider (`mock/<anything>`, or `mock_response` in any
 * request, as LiteLLM does): answers without a network, plain or streamed,
 * with usage estimated from the text.
 */
export const DEFAULT_MOCK_RESPONSE = 'This is a mock response from Tollgate.';

export interface MockAnswer {
  id: string;
  created: number;
  model: string;
  text: string;
  usage: Usage;
}

export function mockAnswer(request: ChatRequest, model: string, configured?: string): MockAnswer {
  const text = request.mock_response ?? configured ?? DEFAULT_MOCK_RESPONSE;
  const prompt = estimateTokens(messageText(request.messages));
  const completion = estimateTokens(text);
  return {
    id: `chatcmpl-${crypto.randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model,
    text,
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

export function mockCompletion(answer: MockAnswer) {
  return {
    id: answer.id,
    object: 'chat.completion',
    created: answer.created,
    model: answer.model,
    choices: [{ index: 0, message: { role: 'assistant', content: answer.text }, logprobs: null, finish_reason: 'stop' }],
    usage: answer.usage,
  };
}

/** The answer as OpenAI's SSE chunks, a word at a time, ending with `data: [DONE]`. */
export function mockStream(answer: MockAnswer, includeUsage: boolean): ReadableStream<Uint8Array> {
  const base = { id: answer.id, object: 'chat.completion.chunk', created: answer.created, model: answer.model };
  const words = answer.text.match(/\S+\s*/g) ?? [''];
  const events: unknown[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] },
    ...words.map((w) => ({ ...base, choices: [{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] },
  ];
  if (includeUsage) events.push({ ...base, choices: [], usage: answer.usage });
  const encoder = new TextEncoder();
  const lines = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const line = lines[i++];
      if (line === undefined) controller.close();
      else controller.enqueue(encoder.encode(line));
    },
  });
}
