import type { Endpoint } from '../providers/types.ts';

interface ChatLike {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: { index?: number; message?: { role?: string; tool_calls?: unknown[] } & Record<string, unknown>; text?: string; finish_reason?: string | null }[];
  usage?: unknown;
}

/** The message fields of reasoning, streamed before the content as a reasoning model streams them. */
const REASONING_FIELDS = ['reasoning_content', 'reasoning', 'thinking_blocks'];

type Json = Record<string, unknown>;

/**
 * A cached answer replayed as the SSE chunks OpenAI would have streamed:
 * the role, the reasoning where there is any (`reasoningDeltas`), then the
 * rest of the message in one piece (content, tool calls with their index,
 * refusal, annotations, audio, a legacy function_call: every field as
 * stored), the finish reason, then the usage chunk if the client asked, then
 * `[DONE]`.
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
      for (const reasoning of reasoningDeltas(delta)) events.push({ ...base, object, choices: [{ index, delta: reasoning, logprobs: null, finish_reason: null }] });
      for (const f of REASONING_FIELDS) delete delta[f];
      events.push({ ...base, object, choices: [{ index, delta, logprobs: null, finish_reason: null }] });
      events.push({ ...base, object, choices: [{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    } else {
      events.push({ ...base, object: 'text_completion', choices: [{ index, text: choice.text ?? '', logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    }
  }
  if (includeUsage && parsed.usage) events.push({ ...base, object: chat ? 'chat.completion.chunk' : 'text_completion', choices: [], usage: parsed.usage });
  return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
}

/**
 * A stored message's reasoning as the deltas a live stream gives it. Claude's thinking blocks go block by block as
 * the gateway's Anthropic translator streams them: a thinking block's text as `reasoning_content`, then its signature
 * alone (`thinking_blocks: [{type: 'thinking', thinking: '', signature}]`), a redacted block whole in its own chunk;
 * so a client joins the same reasoning_content and blocks it first got, and /v1/messages rebuilds each block with its
 * own signature (one chunk of all the thinking would put it all in the first block). Their text joined is the
 * message's `reasoning_content`, so that field is not sent again. Otherwise `reasoning_content` and `reasoning`, as
 * stored, in one chunk; a `reasoning` beside thinking blocks in its own after them.
 */
function reasoningDeltas(message: Json): Json[] {
  const blocks = Array.isArray(message.thinking_blocks) && message.thinking_blocks.length ? (message.thinking_blocks as unknown[]) : undefined;
  const fields = (blocks ? ['reasoning'] : ['reasoning_content', 'reasoning']).filter((f) => message[f] !== undefined && message[f] !== null);
  const deltas: Json[] = [];
  for (const block of blocks ?? []) {
    const { type, thinking, signature } = (block ?? {}) as Json;
    if (type !== 'thinking') {
      deltas.push({ thinking_blocks: [block] });
      continue;
    }
    if (typeof thinking === 'string' && thinking) deltas.push({ reasoning_content: thinking });
    if (typeof signature === 'string' && signature) deltas.push({ thinking_blocks: [{ type: 'thinking', thinking: '', signature }] });
  }
  if (fields.length) deltas.push(Object.fromEntries(fields.map((f) => [f, message[f]])));
  return deltas;
}
