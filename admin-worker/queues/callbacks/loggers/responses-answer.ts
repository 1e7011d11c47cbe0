import { responsesToolCalls } from '../../../../worker/providers/answer-tool-calls.ts';
import { isObject, type Json } from './payloads.ts';

/**
 * A Responses API answer in a payload's `response` (standard/payload.ts) read as a chat completion's first
 * choice, for the loggers that show a chat answer: its message items' output text as the content (null without
 * any), its `function_call` items as `tool_calls`, `finish_reason: "tool_calls"` when there are any, as the
 * payload gives a chat answer's. Undefined for any other answer.
 */
export function responsesChoice(response: unknown): Json | undefined {
  if (!isObject(response) || response.object !== 'response' || !Array.isArray(response.output)) return undefined;
  const texts: string[] = [];
  for (const item of response.output) {
    if (!isObject(item) || item.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content) if (isObject(part) && part.type === 'output_text' && typeof part.text === 'string') texts.push(part.text);
  }
  const calls = responsesToolCalls(response.output);
  const message: Json = { role: 'assistant', content: texts.length ? texts.join('') : null, ...(calls ? { tool_calls: calls } : {}) };
  return { index: 0, message, finish_reason: calls ? 'tool_calls' : 'stop' };
}
