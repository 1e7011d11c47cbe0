import { isObject } from '../json.ts';

/**
 * The texts of a request a guardrail reads, each with a way to replace it (a masking guardrail's answer):
 * a chat call's message contents (strings, or the text parts of a list), a completion's prompt, a
 * Responses API call's instructions and input. Images, audio and tool definitions are not texts.
 */
export interface TextSlot {
  /** The message's role where there is one (`user`, `system`, `assistant`, `tool`). */
  role: string;
  text: string;
  set(text: string): void;
}

function stringSlot(holder: Record<string, unknown>, key: string, role: string, out: TextSlot[]): void {
  if (typeof holder[key] === 'string') out.push({ role, text: holder[key], set: (text) => (holder[key] = text) });
}

/**
 * The texts under a message or item: its content (a string, or parts: their `text`, a document's text
 * `source.data`, nested `content`, a tool result's `output`), and the arguments of the tool calls it makes.
 */
function contentSlots(holder: Record<string, unknown>, key: string, role: string, out: TextSlot[], depth = 0): void {
  const content = holder[key];
  if (typeof content === 'string') {
    stringSlot(holder, key, role, out);
  } else if (Array.isArray(content) && depth < 4) {
    for (const part of content) {
      if (!isObject(part)) continue;
      stringSlot(part, 'text', role, out);
      if (isObject(part.source) && part.source.type === 'text') stringSlot(part.source, 'data', role, out);
      if (Array.isArray(part.content) || typeof part.content === 'string') contentSlots(part, 'content', role, out, depth + 1);
      if (part.type === 'function_call_output' || part.type === 'tool_result') stringSlot(part, 'output', role, out);
    }
  }
  stringSlot(holder, 'output', role, out);
  stringSlot(holder, 'arguments', role, out);
  if (Array.isArray(holder.tool_calls)) {
    for (const call of holder.tool_calls) if (isObject(call) && isObject(call.function)) stringSlot(call.function, 'arguments', role, out);
  }
}

/** Whether a request carries text a guardrail cannot read (a completion's prompt as token ids). */
export function unreadablePrompt(body: Record<string, unknown>): boolean {
  const prompt = body.prompt;
  return Array.isArray(prompt) && prompt.some((p) => typeof p === 'number' || Array.isArray(p));
}

export function requestTexts(body: Record<string, unknown>): TextSlot[] {
  const out: TextSlot[] = [];
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      if (isObject(message)) contentSlots(message, 'content', typeof message.role === 'string' ? message.role : 'user', out);
    }
    return out;
  }
  if (typeof body.instructions === 'string') out.push({ role: 'system', text: body.instructions, set: (text) => (body.instructions = text) });
  if (typeof body.prompt === 'string') contentSlots(body, 'prompt', 'user', out);
  else if (Array.isArray(body.prompt)) {
    const prompts = body.prompt;
    prompts.forEach((p, i) => typeof p === 'string' && out.push({ role: 'user', text: p, set: (text) => (prompts[i] = text) }));
  }
  if (typeof body.input === 'string') contentSlots(body, 'input', 'user', out);
  else if (Array.isArray(body.input)) {
    for (const item of body.input) {
      if (isObject(item)) contentSlots(item, 'content', typeof item.role === 'string' ? item.role : 'user', out);
    }
  }
  return out;
}

/** The texts of an answer (a chat completion's choices, a completion's, a response's output text). */
export function answerTexts(answer: unknown): TextSlot[] {
  const out: TextSlot[] = [];
  if (!isObject(answer)) return out;
  if (Array.isArray(answer.choices)) {
    for (const choice of answer.choices) {
      if (!isObject(choice)) continue;
      if (isObject(choice.message)) contentSlots(choice.message, 'content', 'assistant', out);
      else if (typeof choice.text === 'string') contentSlots(choice, 'text', 'assistant', out);
    }
  }
  if (Array.isArray(answer.output)) {
    for (const item of answer.output) if (isObject(item)) contentSlots(item, 'content', 'assistant', out);
  }
  return out;
}
