import type { CachedAnswer } from './store.ts';

interface ChatLike {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: { index?: number; message?: { role?: string; content?: unknown; tool_calls?: unknown[] }; text?: string; finish_reason?: string | null }[];
  usage?: unknown;
}

/**
 * A cached answer replayed as the SSE chunks OpenAI would have streamed:
 * the role, the content in one piece, the finish reason, then the usage
 * chunk if the client asked, then `[DONE]`.
 */
export function replayAsStream(answer: CachedAnswer, includeUsage: boolean): string {
  const parsed = JSON.parse(answer.json) as ChatLike;
  const base = { id: parsed.id ?? `chatcmpl-${crypto.randomUUID()}`, created: parsed.created ?? Math.floor(Date.now() / 1000), model: parsed.model ?? '' };
  const events: unknown[] = [];
  const chat = answer.endpoint === 'chat';
  for (const [i, choice] of (parsed.choices ?? []).entries()) {
    const index = choice.index ?? i;
    if (chat) {
      const object = 'chat.completion.chunk';
      events.push({ ...base, object, choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      const delta: Record<string, unknown> = {};
      if (typeof choice.message?.content === 'string') delta.content = choice.message.content;
      if (choice.message?.tool_calls?.length) delta.tool_calls = choice.message.tool_calls.map((t, n) => ({ index: n, ...(t as object) }));
      events.push({ ...base, object, choices: [{ index, delta, logprobs: null, finish_reason: null }] });
      events.push({ ...base, object, choices: [{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    } else {
      events.push({ ...base, object: 'text_completion', choices: [{ index, text: choice.text ?? '', logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    }
  }
  if (includeUsage && parsed.usage) events.push({ ...base, object: chat ? 'chat.completion.chunk' : 'text_completion', choices: [], usage: parsed.usage });
  return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
}

/** The non-streamed form of a streamed answer, from its text and usage: what a cache stores. */
export function assembleAnswer(endpoint: 'chat' | 'completion', model: string, text: string, usage: { promptTokens: number; completionTokens: number }): string {
  const u = { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
  const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${crypto.randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  return JSON.stringify(endpoint === 'chat'
    ? { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'stop' }], usage: u }
    : { id, object: 'text_completion', created, model, choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }], usage: u });
}
