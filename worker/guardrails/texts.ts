import { isObject } from '../json.ts';
import type { Endpoint } from '../providers/types.ts';

/**
 * The texts of a request a guardrail reads, each with a way to replace it (a masking guardrail's answer):
 * a chat call's message contents (strings, or the text parts of a list), a completion's prompt, a
 * Responses API call's instructions and input, an embedding's input (a string or strings), an image's
 * prompt, a speech's input, a rerank's query and documents. Images, audio and tool definitions are not texts.
 */
export interface TextSlot {
  /** The message's role where there is one (`user`, `system`, `assistant`, `tool`). */
  role: string;
  text: string;
  /**
   * An answer's text the logs keep (`responseText`): the first choice's content, a response's output text, a
   * transcription's text; not a tool call's arguments, nor another choice's text.
   */
  kept?: boolean;
  set(text: string): void;
}

function stringSlot(holder: Record<string, unknown>, key: string, role: string, out: TextSlot[], kept = false): void {
  if (typeof holder[key] === 'string') out.push({ role, text: holder[key], ...(kept ? { kept } : {}), set: (text) => (holder[key] = text) });
}

/**
 * The texts under a message or item: its content (a string, or parts: their `text`, a document's text
 * `source.data`, nested `content`, a tool result's `output`), and the arguments of the tool calls it makes.
 * `kept`: its content (the string, or its parts' `text`) is the answer's text the logs keep.
 */
function contentSlots(holder: Record<string, unknown>, key: string, role: string, out: TextSlot[], depth = 0, kept = false): void {
  const content = holder[key];
  if (typeof content === 'string') {
    stringSlot(holder, key, role, out, kept);
  } else if (Array.isArray(content) && depth < 4) {
    for (const part of content) {
      if (!isObject(part)) continue;
      stringSlot(part, 'text', role, out, kept);
      if (isObject(part.source) && part.source.type === 'text') stringSlot(part.source, 'data', role, out);
      // A document whose source is content blocks, and a document's or search result's title and context: all sent.
      if (isObject(part.source) && part.source.type === 'content') contentSlots(part.source, 'content', role, out, depth + 1);
      if (part.type === 'document' || part.type === 'search_result') {
        stringSlot(part, 'title', role, out);
        stringSlot(part, 'context', role, out);
      }
      if (Array.isArray(part.content) || typeof part.content === 'string') contentSlots(part, 'content', role, out, depth + 1);
      if (part.type === 'function_call_output' || part.type === 'tool_result') stringSlot(part, 'output', role, out);
    }
  }
  stringSlot(holder, 'output', role, out);
  stringSlot(holder, 'arguments', role, out);
  if (Array.isArray(holder.tool_calls)) {
    for (const call of holder.tool_calls) if (isObject(call) && isObject(call.function)) stringSlot(call.function, 'arguments', role, out);
  }
  if (isObject(holder.function_call)) stringSlot(holder.function_call, 'arguments', role, out);
}

/** The answer's text the logs keep, joined from its `kept` slots as they stand; undefined where it has none (tool calls only). */
export function keptText(slots: readonly TextSlot[]): string | undefined {
  const kept = slots.filter((slot) => slot.kept);
  return kept.length ? kept.map((slot) => slot.text).join('') : undefined;
}

/**
 * The field of a request that carries text a guardrail cannot read (a completion's prompt or an
 * embedding's input as token ids), or undefined: such a request is refused rather than let past them.
 */
export function unreadableField(body: Record<string, unknown>): 'prompt' | 'input' | undefined {
  const tokens = (v: unknown) => Array.isArray(v) && v.some((p) => typeof p === 'number' || Array.isArray(p));
  return tokens(body.prompt) ? 'prompt' : tokens(body.input) ? 'input' : undefined;
}

/** Every string under a value (a rerank's documents: strings, objects, their lists), each replaceable in place. */
function everyString(holder: unknown[] | Record<string, unknown>, out: TextSlot[], depth = 0): void {
  if (depth > 8) return;
  const visit = (value: unknown, set: (text: string) => void) => {
    if (typeof value === 'string') out.push({ role: 'user', text: value, set });
    else if (Array.isArray(value) || isObject(value)) everyString(value, out, depth + 1);
  };
  if (Array.isArray(holder)) holder.forEach((v, i) => visit(v, (text) => (holder[i] = text)));
  else for (const [key, v] of Object.entries(holder)) visit(v, (text) => (holder[key] = text));
}

/**
 * The texts of a request, read by its endpoint: a chat's (and /v1/messages') `messages`, every other endpoint's own
 * fields (a `messages` there is refused when guardrails run: guardRequest). By endpoint, not by which field is
 * present, so an empty `messages` cannot hide an embedding's input or a response's input from the guardrails.
 */
export function requestTexts(body: Record<string, unknown>, endpoint: Endpoint): TextSlot[] {
  const out: TextSlot[] = [];
  if (endpoint === 'chat') {
    for (const message of Array.isArray(body.messages) ? body.messages : []) {
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
  // A rerank's query and its documents (texts, or objects: every string in them, as Cohere reads any field with
  // rank_fields): what the provider ranks is what was checked.
  stringSlot(body, 'query', 'user', out);
  if (Array.isArray(body.documents)) everyString(body.documents, out);
  if (typeof body.input === 'string') contentSlots(body, 'input', 'user', out);
  else if (Array.isArray(body.input)) {
    const inputs = body.input;
    inputs.forEach((item, i) => {
      // An embedding's list of strings; a Responses call's items.
      if (typeof item === 'string') out.push({ role: 'user', text: item, set: (text) => (inputs[i] = text) });
      else if (isObject(item)) contentSlots(item, 'content', typeof item.role === 'string' ? item.role : 'user', out);
    });
  }
  return out;
}

/**
 * The texts of an answer (a chat completion's choices, a completion's, a response's output text, a
 * transcription's text and its segments'), those the logs keep as its text marked `kept`.
 */
export function answerTexts(answer: unknown): TextSlot[] {
  const out: TextSlot[] = [];
  if (!isObject(answer)) return out;
  if (typeof answer.text === 'string') {
    stringSlot(answer, 'text', 'assistant', out, true);
    // Its words are not texts of their own: they follow the masked text and segments (words.ts).
    for (const part of Array.isArray(answer.segments) ? answer.segments : []) if (isObject(part)) stringSlot(part, 'text', 'assistant', out);
  }
  if (Array.isArray(answer.choices)) {
    answer.choices.forEach((choice, i) => {
      if (!isObject(choice)) return;
      if (isObject(choice.message)) contentSlots(choice.message, 'content', 'assistant', out, 0, i === 0);
      else if (typeof choice.text === 'string') contentSlots(choice, 'text', 'assistant', out, 0, i === 0);
    });
  }
  if (Array.isArray(answer.output)) {
    for (const item of answer.output) if (isObject(item)) contentSlots(item, 'content', 'assistant', out, 0, item.type === 'message');
  }
  return out;
}
