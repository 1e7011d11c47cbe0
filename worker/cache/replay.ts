import type { Endpoint } from '../providers/types.ts';

interface ChatLike {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: { index?: number; message?: { role?: string; tool_calls?: unknown[] } & Record<string, unknown>; text?: string; finish_reason?: string | null }[];
  usage?: unknown;
}

/**
 * A cached answer replayed as the SSE chunks OpenAI would have streamed:
 * the role, then the rest of the message in one piece (content, tool calls
 * with their index, reasoning, thinking blocks, refusal, annotations, audio,
 * a legacy function_call: every field as stored), the finish reason, then
 * the usage chunk if the client asked, then `[DONE]`.
 */
export function replayAsStream(answer: { endpoint: Endpoint; json: string }, includeUsage: boolean): string {
  const parsed = JSON.parse(answer.json) as ChatLike;
  const base = { id: parsed.id ?? `chatcmpl-${crypto.randomUUID()}`, created: parsed.created ?? Math.floor(Date.now() / 1000), model: parsed.model ?? '' };
  const events: unknown[] = [];
  const chat = answer.endpoint === 'chat';
  for (const [i, choice] of (parsed.choices ?? []).entries()) {
    const index = choice.index ?? i;
    if (chat) {
      const object = 'chat.completion.chunk';
      events.push({ ...base, object, choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      const { role: _role, ...delta } = choice.message ?? {};
      if (delta.content === null) delete delta.content;
      if (Array.isArray(delta.tool_calls)) delta.tool_calls = delta.tool_calls.map((t, n) => ({ index: n, ...(t as object) }));
      events.push({ ...base, object, choices: [{ index, delta, logprobs: null, finish_reason: null }] });
      events.push({ ...base, object, choices: [{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    } else {
      events.push({ ...base, object: 'text_completion', choices: [{ index, text: choice.text ?? '', logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    }
  }
  if (includeUsage && parsed.usage) events.push({ ...base, object: chat ? 'chat.completion.chunk' : 'text_completion', choices: [], usage: parsed.usage });
  return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
}
