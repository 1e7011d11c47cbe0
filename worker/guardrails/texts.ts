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

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function contentSlots(holder: Record<string, unknown>, key: string, role: string, out: TextSlot[]): void {
  const content = holder[key];
  if (typeof content === 'string') {
    out.push({ role, text: content, set: (text) => (holder[key] = text) });
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (isObject(part) && typeof part.text === 'string') out.push({ role, text: part.text, set: (text) => (part.text = text) });
  }
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
