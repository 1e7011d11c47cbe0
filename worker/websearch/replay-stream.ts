/**
 * A client that asked to stream an intercepted call gets the final answer as a stream: the tool loop runs on
 * whole answers (as LiteLLM turns `stream=True` off for it), then the finished turn is sent as the dialect's
 * events: Chat Completions chunks ending in `[DONE]`, Anthropic's `message_start` ... `message_stop`, or the
 * Responses API's typed events (`response.created` ... `response.completed`).
 */
import { isObject } from '../json.ts';
import { responseEvents } from '../mcp/responses-tools.ts';
import type { Dialect } from './tools.ts';

type Json = Record<string, unknown>;

const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const event = (name: string, payload: unknown) => `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;

/** The chunks of a chat completion: its message in one delta, the finish reason, usage when asked for. */
function chatEvents(answer: Json, includeUsage: boolean): string[] {
  const head = { id: answer.id, object: 'chat.completion.chunk', created: answer.created, model: answer.model, ...(answer.system_fingerprint ? { system_fingerprint: answer.system_fingerprint } : {}) };
  const out: string[] = [];
  for (const choice of Array.isArray(answer.choices) ? answer.choices.filter(isObject) : []) {
    const message = isObject(choice.message) ? choice.message : {};
    const delta: Json = { role: 'assistant', content: message.content ?? null };
    if (Array.isArray(message.tool_calls)) delta.tool_calls = message.tool_calls.map((call, index) => ({ index, ...(call as Json) }));
    out.push(data({ ...head, choices: [{ index: choice.index ?? 0, delta, finish_reason: null }] }));
    out.push(data({ ...head, choices: [{ index: choice.index ?? 0, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }] }));
  }
  if (includeUsage && answer.usage) out.push(data({ ...head, choices: [], usage: answer.usage }));
  out.push('data: [DONE]\n\n');
  return out;
}

/** One content block as Anthropic streams it: start (empty), its content as one delta, stop. */
function blockEvents(block: Json, index: number): string[] {
  let start: Json;
  let delta: Json | undefined;
  if (block.type === 'text') {
    start = { type: 'text', text: '' };
    delta = { type: 'text_delta', text: block.text ?? '' };
  } else if (block.type === 'tool_use') {
    start = { type: 'tool_use', id: block.id, name: block.name, input: {} };
    delta = { type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) };
  } else if (block.type === 'thinking') {
    start = { type: 'thinking', thinking: '' };
    delta = { type: 'thinking_delta', thinking: block.thinking ?? '' };
  } else {
    start = block;
  }
  const out = [event('content_block_start', { type: 'content_block_start', index, content_block: start })];
  if (delta) out.push(event('content_block_delta', { type: 'content_block_delta', index, delta }));
  if (block.type === 'thinking' && typeof block.signature === 'string') {
    out.push(event('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } }));
  }
  out.push(event('content_block_stop', { type: 'content_block_stop', index }));
  return out;
}

/** A Messages answer as Anthropic's event stream. */
function messagesEvents(answer: Json): string[] {
  const usage = isObject(answer.usage) ? answer.usage : {};
  const blocks = Array.isArray(answer.content) ? answer.content.filter(isObject) : [];
  return [
    event('message_start', { type: 'message_start', message: { ...answer, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } } }),
    ...blocks.flatMap(blockEvents),
    event('message_delta', { type: 'message_delta', delta: { stop_reason: answer.stop_reason ?? 'end_turn', stop_sequence: answer.stop_sequence ?? null }, usage: { output_tokens: usage.output_tokens ?? 0 } }),
    event('message_stop', { type: 'message_stop' }),
  ];
}

/** A finished response as the Responses API streams it (`event:` then `data:` of the same type). */
const responsesEvents = (answer: Json): string[] => responseEvents(answer).map((e) => event(String(e.type), e));

/** The final answer as the stream the client asked for, with the last call's headers (an event stream now). */
export function replayAsStream(answer: Json, dialect: Dialect, headers: Headers, includeUsage: boolean): Response {
  const text = (dialect === 'chat' ? chatEvents(answer, includeUsage) : dialect === 'responses' ? responsesEvents(answer) : messagesEvents(answer)).join('');
  const out = new Headers(headers);
  out.set('content-type', 'text/event-stream');
  out.set('cache-control', 'no-cache');
  out.delete('content-length');
  return new Response(text, { status: 200, headers: out });
}
